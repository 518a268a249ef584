import { STATUS_CODES } from 'node:http';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { getOperationAST, type OperationTypeNode } from 'graphql';
import { LRUCache } from 'lru-cache';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import { withTraceContext } from '@popug/lib/tracing/outgoing';
import type { GatewayContext } from './context';
import type { SubgraphAnswer, SubgraphCall } from './subgraph-calls';

type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

/**
 * Calls one subgraph, carrying the gateway's signed statement of who is calling, made for
 * this subgraph and this request.
 *
 * A data source of our own rather than Apollo's RemoteGraphQLDataSource: that one builds
 * a node-fetch Headers and Request and a WHATWG Response around every call, about a tenth
 * of the gateway's CPU per request (docs/performance.md "Performance"). The wire behaviour is the same:
 * POST the operation as JSON; unlike it, a non-2xx answer is an internal error whose
 * details (URL, status, body) reach the log and never the client.
 */
export class SubgraphSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly name: string,
    private readonly url: string,
    private readonly call: SubgraphCall,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    // The fetch's span is Apollo's `gateway.fetch`, active here: the subgraph's spans go below it.
    const headers = withTraceContext<Record<string, string>>({ 'content-type': 'application/json' });
    // Health checks and schema loads carry no request context (the static supergraph makes neither).
    if ('requestId' in context) {
      headers[REQUEST_ID_HEADER] = context.requestId;
    }
    const body = requestBody(request.query, request);
    const answer = await this.call(this.url, headers, body, { kind: operationKind(options), caller: callerKey(context), statement: this.statementOf(context) });
    const parsed = parseBody(answer);
    if (answer.status < 200 || answer.status > 299) throw errorFromAnswer(this.url, answer, parsed);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`Expected JSON response body, but received: ${answer.text.slice(0, 200)}`);
    return parsed as GatewayGraphQLResponse;
  }

  /** The request's statement for this subgraph (x-popug-identity), signed when the call is sent. */
  private statementOf(context: GraphQLDataSourceProcessOptions<GatewayContext>['context']): (() => string) | undefined {
    const statementFor = 'requestId' in context ? (context as GatewayContext).statementFor : undefined;
    return statementFor && (() => statementFor(this.name));
  }
}

/** Query texts come from cached plans: a few hundred at most, far fewer than this. */
const encodedQueries = new LRUCache<string, string>({ max: 10_000 });

/**
 * The JSON body Apollo's data source would send (`JSON.stringify` of query, operationName,
 * variables, extensions), with the query's JSON text kept per query: the planner sends the
 * same few texts over and over, and escaping a few kB of quotes each time is wasted work.
 */
function requestBody(query: string, { operationName, variables, extensions }: GraphQLDataSourceProcessOptions<GatewayContext>['request']): string {
  let encoded = encodedQueries.get(query);
  if (encoded === undefined) {
    encoded = JSON.stringify(query);
    encodedQueries.set(query, encoded);
  }
  const rest = JSON.stringify({ operationName, variables, extensions });
  return rest === '{}' ? `{"query":${encoded}}` : `{"query":${encoded},${rest.slice(1)}`;
}

/**
 * The kind of the operation this fetch sends, from the document the query planner built
 * for it (server.ts asks it to expose that): an entity fetch made for a mutation is a query.
 * Unknown (a health check, a schema load) reads as not a query, so it is never shared.
 */
function operationKind(options: GraphQLDataSourceProcessOptions<GatewayContext>): OperationTypeNode | undefined {
  if (!('document' in options) || !options.document) return undefined;
  return getOperationAST(options.document, options.request.operationName)?.operation;
}

/**
 * Who a call's answer is for: identical reads in flight for the same caller share one call
 * (subgraph-calls.ts), whatever request's statement it carries. Each request's statement is
 * its own now (made for its request id), so the statement itself no longer tells callers apart.
 */
function callerKey(context: GraphQLDataSourceProcessOptions<GatewayContext>['context']): string | undefined {
  if (!('requestId' in context) || !context.statementFor) return undefined;
  const { caller } = context as GatewayContext;
  return caller ? `${caller.id}:${caller.revision}:${caller.role}:${caller.sessionId ?? ''}` : 'anonymous';
}

function parseBody(answer: SubgraphAnswer): unknown {
  const json = answer.contentType?.startsWith('application/json') || answer.contentType?.startsWith('application/graphql-response+json');
  return json ? JSON.parse(answer.text) : answer.text;
}

/**
 * A subgraph that answers anything but 2xx failed us, not the client: the gateway already
 * confirmed the client's token, so even a 401 means a statement the subgraph would not
 * take (keys out of step). The details go to the log only; the client gets the masked
 * internal error with its request id (lib/graphql-errors.ts).
 */
function errorFromAnswer(url: string, answer: SubgraphAnswer, body: unknown): Error {
  const statusText = STATUS_CODES[answer.status] ?? '';
  const excerpt = typeof body === 'string' ? body.slice(0, 500) : JSON.stringify(body).slice(0, 500);
  return new Error(`${url} answered ${answer.status} ${statusText}: ${excerpt}`);
}
