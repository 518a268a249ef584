import { randomUUID } from 'node:crypto';
import { executeQueryPlan, type GraphQLDataSource, type ServiceMap } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { decodeJwt } from 'jose';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type FormattedExecutionResult,
  type GraphQLFormattedError,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { bearerToken, type Caller } from '@popug/lib/identity';
import type { GraphQLRefusal } from '@popug/lib/graphql-endpoint';
import { isClientError, maskError } from '@popug/lib/graphql-errors';
import type { Logger } from '@popug/lib/logger';
import { findBadTextArgument } from '@popug/lib/text-input';
import type { GatewayContext } from '../context';
import type { IdentityClient } from '../identity-client';
import type { IdentitySigner } from '../identity-signer';
import { EventQueue } from './event-queue';
import type { SubscriptionPlan, SubscriptionPlans } from './plans';
import type { SessionEnd, SessionWatch } from './session-watch';
import type { UpstreamClients } from './upstream';

/** What a stream carries: results as the client reads them (errors formatted and masked). */
export type StreamResult = FormattedExecutionResult;

/** Why a live stream ends early: the code of its last (error) event. */
export type StreamEnd = SessionEnd | 'SUBSCRIPTION_INTERRUPTED' | 'SLOW_CONSUMER';

const END_MESSAGES: Record<StreamEnd, string> = {
  SESSION_EXPIRED: 'The access token expired: renew it and subscribe again',
  SESSION_ENDED: 'This session has ended: sign in again',
  ACCOUNT_DEACTIVATED: 'This account is deactivated',
  SUBSCRIPTION_INTERRUPTED: 'The subscription was interrupted: subscribe again, and catch up with a query',
  SLOW_CONSUMER: 'Events came faster than they were read: subscribe again, and catch up with a query',
};

/** Results a client may fall behind by before it is dropped as a slow consumer. */
export const EVENT_QUEUE_BOUND = 256;

/** A subscription request as a transport received it (graphql-sse's params, graphql-ws's subscribe payload). */
export interface SubscriptionParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** A subscription that passed admission: what `start` runs. */
export interface Admitted {
  document: DocumentNode;
  operationName?: string;
  variables: Record<string, unknown>;
  caller: Caller;
  /** The access token's expiry (ms): the stream ends then with SESSION_EXPIRED. */
  expiresAtMs: number;
  requestId: string;
}

/** Live subscriptions on one client connection (a WebSocket; each SSE stream is a connection of its own). */
export interface ClientConnection {
  live: number;
}

export interface SubscriptionLimits {
  perUser: number;
  perConnection: number;
}

export interface FederatedSubscriptionsOptions {
  plans: SubscriptionPlans;
  /** The gateway's data sources by subgraph name (the stock ones: statements, request ids). */
  sources: Readonly<Record<string, GraphQLDataSource>>;
  urls: Readonly<Record<string, string>>;
  identities: IdentityClient;
  signer: IdentitySigner;
  upstream: UpstreamClients;
  watch: SessionWatch;
  limits: SubscriptionLimits;
  validationRules: readonly ValidationRule[];
  parseOptions: ParseOptions;
  logger: Logger;
}

const refusal = (status: number, code: string, message: string): GraphQLRefusal => ({ status, code, message });

/**
 * Federated subscriptions through public APIs of @apollo/gateway (docs/architecture.md
 * "Subscriptions"): admitted like queries, planned by the query planner (`SubscriptionNode`),
 * the primary fetch subscribed on the owning subgraph, and for each event `executeQueryPlan`
 * over `Sequence[primary, rest]` with a service map whose primary source answers with the event.
 */
export class FederatedSubscriptions {
  private readonly live = new Set<LiveSubscription>();
  private readonly perUser = new Map<string, number>();
  private closing = false;

  constructor(readonly options: FederatedSubscriptionsOptions) {}

  /**
   * What a query meets before it runs, for a subscription: the document's limits (parse tokens,
   * depth, cost, aliases), validation, a subscription and nothing else, variables of their
   * types, the text-input rules, and a signed-in caller. Trusted documents are the transport's
   * (the text must be known before this parses it).
   */
  async admit(params: SubscriptionParams, authorization: string | undefined): Promise<Admitted | GraphQLRefusal> {
    const { plans } = this.options;
    let document: DocumentNode;
    try {
      document = parse(params.query, this.options.parseOptions);
    } catch (error) {
      return refusal(400, 'GRAPHQL_PARSE_FAILED', (error as Error).message);
    }
    const invalid = validate(plans.schema, document, [...specifiedRules, ...this.options.validationRules]);
    if (invalid.length > 0) return refusal(400, 'GRAPHQL_VALIDATION_FAILED', invalid[0]!.message);
    const operationName = params.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return refusal(400, 'BAD_REQUEST', 'Name the operation to run');
    if (operation.operation !== 'subscription') return refusal(400, 'BAD_REQUEST', 'Only subscriptions are streamed: send queries and mutations as JSON POSTs to /graphql');
    const variables = params.variables ?? {};
    const coerced = getVariableValues(plans.schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return refusal(400, 'BAD_USER_INPUT', coerced.errors[0]!.message);
    const badText = findBadTextArgument(plans.schema, document, variables);
    if (badText) return refusal(400, 'BAD_USER_INPUT', badText.message);
    const token = bearerToken(authorization);
    if (!token) return refusal(401, 'UNAUTHENTICATED', 'Sign in first: subscriptions are for signed-in users');
    const requestId = randomUUID();
    let caller: Caller;
    try {
      caller = await this.options.identities.resolve(token, requestId);
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') return refusal(401, 'UNAUTHENTICATED', error.message);
      throw error;
    }
    const exp = decodeJwt(token).exp;
    return { document, operationName, variables, caller, requestId, expiresAtMs: typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY };
  }

  /** Starts an admitted subscription: its stream of results, or a refusal when a limit is spent. */
  start(admitted: Admitted, connection: ClientConnection): AsyncGenerator<StreamResult, undefined> | GraphQLRefusal {
    if (this.closing) return refusal(503, 'SUBSCRIPTION_INTERRUPTED', END_MESSAGES.SUBSCRIPTION_INTERRUPTED);
    const userId = admitted.caller.id;
    const held = this.perUser.get(userId) ?? 0;
    if (held >= this.options.limits.perUser) return refusal(429, 'RATE_LIMITED', `At most ${this.options.limits.perUser} live subscriptions per user`);
    if (connection.live >= this.options.limits.perConnection) return refusal(429, 'RATE_LIMITED', `At most ${this.options.limits.perConnection} live subscriptions per connection`);
    let plan: SubscriptionPlan;
    try {
      plan = this.options.plans.plan(admitted.document, admitted.operationName);
    } catch (error) {
      this.options.logger.error({ err: error, requestId: admitted.requestId }, 'a subscription could not be planned');
      return refusal(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
    this.perUser.set(userId, held + 1);
    connection.live += 1;
    const subscription = new LiveSubscription(this, admitted, plan, () => {
      this.live.delete(subscription);
      const left = (this.perUser.get(userId) ?? 1) - 1;
      if (left > 0) this.perUser.set(userId, left);
      else this.perUser.delete(userId);
      connection.live -= 1;
    });
    this.live.add(subscription);
    subscription.subscribe();
    return subscription.stream;
  }

  /** Live subscriptions of this process. */
  get size(): number {
    return this.live.size;
  }

  /** SIGTERM: every stream completes (SSE `complete`), then the upstream sockets close. */
  async close(): Promise<void> {
    this.closing = true;
    for (const subscription of [...this.live]) subscription.finish();
    this.options.watch.close();
    await this.options.upstream.close();
  }
}

/** One client's subscription: its upstream subscription, its watch entry and its queue of results. */
class LiveSubscription {
  readonly stream: EventQueue<StreamResult>;
  private caller: Caller;
  private generation = 0;
  private unsubscribe?: () => void;
  private readonly unwatch: () => void;
  /** Events run one after another, in the order the subgraph sent them. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly owner: FederatedSubscriptions,
    private readonly admitted: Admitted,
    private readonly plan: SubscriptionPlan,
    private readonly released: () => void,
  ) {
    this.caller = admitted.caller;
    this.stream = new EventQueue<StreamResult>(EVENT_QUEUE_BOUND, () => endResult('SLOW_CONSUMER'), () => this.release());
    this.unwatch = owner.options.watch.add({
      caller: admitted.caller,
      expiresAtMs: admitted.expiresAtMs,
      ended: (code) => this.finish(endResult(code)),
      changed: (caller) => {
        // A new role: the subgraph decides again what this caller may see, from a fresh statement.
        this.caller = caller;
        this.subscribe();
      },
    });
  }

  /** (Re)subscribes the primary fetch upstream with the caller's current statement. */
  subscribe(): void {
    const { upstream, signer, urls } = this.owner.options;
    const { primary } = this.plan;
    const generation = ++this.generation;
    const current = () => generation === this.generation && this.stream.open;
    this.unsubscribe?.();
    const url = urls[primary.serviceName];
    if (!url) throw new Error(`No URL for subgraph ${primary.serviceName}`);
    this.unsubscribe = upstream.subscribe(
      {
        subgraph: primary.serviceName,
        url,
        query: primary.operation,
        operationName: primary.operationName,
        variables: pickVariables(this.admitted.variables, primary.variableUsages),
        statement: signer.forRequest(this.caller, this.admitted.requestId)(primary.serviceName),
        requestId: this.admitted.requestId,
      },
      {
        next: (result) => {
          if (!current()) return;
          if (!result.data) {
            // An error event (FORBIDDEN once the caller may no longer see it, SLOW_CONSUMER): passed on, and the stream ends.
            this.after(() => this.finish({ errors: clientErrors(result.errors ?? []) } ));
            return;
          }
          const data = result.data;
          this.after(() => this.runEvent(data));
        },
        complete: () => {
          if (current()) this.after(() => this.finish());
        },
        lost: (errors) => {
          if (!current()) return;
          this.after(() => this.finish(errors?.length ? ({ errors: clientErrors(errors) } ) : endResult('SUBSCRIPTION_INTERRUPTED')));
        },
      },
    );
  }

  /** Ends the client's stream after what is queued, with `last` (an error event) when given. */
  finish(last?: StreamResult): void {
    this.stream.end(last);
  }

  private after(step: () => Promise<void> | void): void {
    this.chain = this.chain.then(step).catch((error: unknown) => {
      this.owner.options.logger.error({ err: error, requestId: this.admitted.requestId }, 'a subscription event failed');
      this.finish({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: this.admitted.requestId } }] });
    });
  }

  /** The event through the plan's entity fetches: `executeQueryPlan` with the primary answered from the event. */
  private async runEvent(data: Record<string, unknown>): Promise<void> {
    if (!this.stream.open) return;
    const { plans, sources, signer, logger } = this.owner.options;
    const { primary, eventPlan, operationContext } = this.plan;
    const context: GatewayContext = { requestId: this.admitted.requestId, caller: this.caller, statementFor: signer.forRequest(this.caller, this.admitted.requestId) };
    const serviceMap: ServiceMap = { ...sources };
    const stock = sources[primary.serviceName];
    serviceMap[primary.serviceName] = {
      process: (options) => (options.request.query === primary.operation ? Promise.resolve({ data }) : stock!.process(options)),
    };
    // What executeQueryPlan reads of Apollo's request context: the request's variables, the
    // context handed to data sources, a logger and a metrics object. Built here because no
    // Apollo request runs for an event; the cast states that the rest is never read.
    const requestContext = {
      request: { variables: this.admitted.variables, operationName: this.admitted.operationName },
      context,
      logger,
      metrics: {},
      operationName: this.admitted.operationName ?? null,
    } as unknown as GatewayGraphQLRequestContext;
    const result = await executeQueryPlan(eventPlan, serviceMap, requestContext, operationContext, plans.supergraphSchema, plans.apiSchema);
    const errors = result.errors?.map((error) => {
      const formatted = error instanceof GraphQLError ? error.toJSON() : { message: String((error as Error).message) };
      if (!isClientError(formatted)) logger.error({ err: error, requestId: this.admitted.requestId }, 'a subscription event met an error');
      return maskError(formatted);
    });
    this.stream.push(errors?.length ? { data: result.data, errors } : { data: result.data });
  }

  private release(): void {
    this.generation += 1;
    this.unsubscribe?.();
    this.unwatch();
    this.released();
  }
}

function endResult(code: StreamEnd): StreamResult {
  return { errors: [{ message: END_MESSAGES[code], extensions: { code } }] };
}

/** A subgraph's error event as the client may see it: codes kept, anything unexpected masked. */
function clientErrors(errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
  return errors.map((error) => maskError(error));
}

function pickVariables(variables: Record<string, unknown>, usages: readonly string[] | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of usages ?? []) if (Object.hasOwn(variables, name) && variables[name] !== undefined) picked[name] = variables[name];
  return picked;
}
