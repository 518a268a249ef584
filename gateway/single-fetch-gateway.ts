import type { ApolloGateway, GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import type { QueryPlannerConfig } from '@apollo/query-planner';
import type { ApolloServerOptionsWithGateway, BaseContext } from '@apollo/server';
import { getVariableValues } from 'graphql';
import { inShortcutSteps, isRecorded } from './shortcut-spans';
import { SingleFetchPlans, type SingleFetch } from './single-fetch-plans';

type GatewayInterface = ApolloServerOptionsWithGateway<BaseContext>['gateway'];
type Executor = ApolloGateway['executor'];
type RequestContext = Parameters<Executor>[0];
type ExecutionResult = Awaited<ReturnType<Executor>>;
type SubgraphResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;
type IncomingOperation = Extract<GraphQLDataSourceProcessOptions, { incomingRequestContext: unknown }>;
/** The value of `GraphQLDataSourceRequestKind.INCOMING_OPERATION`, an enum @apollo/gateway declares but does not export. */
const INCOMING_OPERATION = 'incoming operation' as IncomingOperation['kind'];

/** A subgraph answer already fetched for a request, handed to the stock path's same fetch instead of calling again. */
interface Held {
  service: string;
  query: string;
  answer: Promise<SubgraphResponse>;
}

/**
 * Apollo's gateway with one shortcut, through public extension points only (docs/performance.md
 * "Gateway CPU"): Apollo Server's `GatewayInterface` wrapped around an `ApolloGateway`, and
 * the gateway's `buildService` data sources.
 *
 * For an operation whose plan is a single fetch selecting exactly what the client asked
 * (single-fetch-plans.ts), the executor sends that fetch through the gateway's own data
 * source, with the variables and document the gateway would send, and when the subgraph's
 * answer is complete — data for every root field, no errors — returns its data as the
 * answer. Anything else (an error, a missing root field, a failed call) goes through the stock
 * executor, and the answer already fetched is handed to its identical fetch (`Held`), so the
 * subgraph is not asked twice and Apollo forms errors, paths and nulls as it always does. So do
 * operations the judgement refuses, requests whose variables do not validate (the stock path
 * reports them) and requests capturing usage traces. A request whose trace is recorded takes
 * the shortcut too, recording Apollo's steps around its fetch itself (./shortcut-spans.ts).
 */
export class SingleFetchGateway implements GatewayInterface {
  private plans?: SingleFetchPlans;
  private stock?: Executor;
  private readonly sources = new Map<string, GraphQLDataSource>();
  private readonly held = new WeakMap<object, Held>();

  private readonly inner: ApolloGateway;

  /**
   * `gateway` builds the ApolloGateway (given `queryPlannerConfig`, the planner options the
   * judgement plans with too), its `buildService` passing each data source through `wrap`.
   */
  constructor(
    private readonly plannerConfig: QueryPlannerConfig,
    gateway: (wrap: (name: string, source: GraphQLDataSource) => GraphQLDataSource) => ApolloGateway,
  ) {
    this.inner = gateway((name, source) => this.dataSource(name, source));
  }

  /** The data source, answering a held answer once where there is one. */
  private dataSource(name: string, source: GraphQLDataSource): GraphQLDataSource {
    this.sources.set(name, source);
    return {
      process: (options) => {
        const held = options.kind === INCOMING_OPERATION ? this.held.get(options.context) : undefined;
        if (held && held.service === name && held.query === options.request.query) {
          this.held.delete(options.context);
          return held.answer;
        }
        return source.process(options);
      },
    };
  }

  onSchemaLoadOrUpdate(...args: Parameters<GatewayInterface['onSchemaLoadOrUpdate']>): ReturnType<GatewayInterface['onSchemaLoadOrUpdate']> {
    return this.inner.onSchemaLoadOrUpdate(...args);
  }

  async load(...args: Parameters<GatewayInterface['load']>): ReturnType<GatewayInterface['load']> {
    const unsubscribe = this.inner.onSchemaLoadOrUpdate(({ coreSupergraphSdl }) => {
      this.plans = new SingleFetchPlans(coreSupergraphSdl, this.plannerConfig);
    });
    this.stopListening = unsubscribe;
    const { executor } = await this.inner.load(...args);
    this.stock = executor;
    return { executor: (requestContext) => this.execute(requestContext) };
  }

  /** Whether the supergraph is loaded: requests can be planned and run (the gateway's /ready). */
  get loaded(): boolean {
    return this.stock !== undefined;
  }

  async stop(): Promise<void> {
    this.stopListening?.();
    await this.inner.stop();
  }

  private stopListening?: () => void;

  private async execute(requestContext: RequestContext): Promise<ExecutionResult> {
    const stock = this.stock;
    if (!stock) throw new Error('The gateway is not loaded');
    const single = this.plans?.judge(requestContext.document, requestContext.request.operationName);
    const source = single && this.sources.get(single.fetch.serviceName);
    if (!single || !source || !this.mayShortcut(requestContext)) return stock(requestContext);
    const options = this.fetchOptions(single, requestContext);
    const answer = isRecorded()
      ? inShortcutSteps({ name: requestContext.operationName ?? undefined, type: requestContext.operation?.operation }, single.fetch.serviceName, () => source.process(options))
      : source.process(options);
    try {
      const response = await answer;
      if (isComplete(response, single.roots)) return { data: response.data };
    } catch {
      // The stock path meets the same failure in its own fetch and reports it as Apollo does.
    }
    const context = requestContext.context;
    this.held.set(context, { service: single.fetch.serviceName, query: single.fetch.operation, answer });
    try {
      return await stock(requestContext);
    } finally {
      this.held.delete(context);
    }
  }

  private mayShortcut(requestContext: RequestContext): boolean {
    if (requestContext.metrics?.captureTraces) return false;
    const definitions = requestContext.operation?.variableDefinitions;
    if (!definitions?.length) return true;
    return !getVariableValues(requestContext.schema, definitions, requestContext.request.variables ?? {}).errors;
  }

  /** What the gateway's `executeQueryPlan` hands the data source for this fetch (its `executeFetch`). */
  private fetchOptions({ fetch }: SingleFetch, requestContext: RequestContext): IncomingOperation {
    const provided = requestContext.request.variables;
    const variables: Record<string, unknown> = Object.create(null);
    for (const name of fetch.variableUsages ?? []) {
      if (provided && Object.hasOwn(provided, name) && provided[name] !== undefined) variables[name] = provided[name];
    }
    return {
      kind: INCOMING_OPERATION,
      request: { query: fetch.operation, variables, operationName: fetch.operationName },
      incomingRequestContext: requestContext,
      context: requestContext.context,
      document: fetch.operationDocumentNode,
      pathInIncomingRequest: [],
    };
  }
}

function isComplete(response: SubgraphResponse, roots: readonly string[]): response is SubgraphResponse & { data: Record<string, unknown> } {
  if (response.errors?.length) return false;
  const data = response.data;
  return !!data && roots.every((name) => data[name] !== undefined);
}
