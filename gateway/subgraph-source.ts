import { STATUS_CODES } from 'node:http';
import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { getOperationAST, GraphQLError, type OperationTypeNode } from 'graphql';
import { IDENTITY_HEADER, REQUEST_ID_HEADER } from '@popug/lib';
import type { GatewayContext } from './context';
import type { SubgraphAnswer, SubgraphCall } from './subgraph-calls';

type GatewayGraphQLResponse = Awaited<ReturnType<GraphQLDataSource['process']>>;

/**
 * Calls one subgraph, carrying the gateway's signed statement of who is calling.
 *
 * A data source of our own rather than Apollo's RemoteGraphQLDataSource: that one builds
 * a node-fetch Headers and Request and a WHATWG Response around every call, about a tenth
 * of the gateway's CPU per request (README "Performance"). The wire behaviour is the same:
 * POST the operation as JSON, a non-2xx answer becomes a GraphQLError "<status>: <text>"
 * (UNAUTHENTICATED for 401, FORBIDDEN for 403) carrying what the subgraph said.
 */
export class SubgraphSource implements GraphQLDataSource<GatewayContext> {
  constructor(
    private readonly url: string,
    private readonly call: SubgraphCall,
  ) {}

  async process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    if (!request.query) throw new Error('Missing query');
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    // Health checks and schema loads carry no request context (the static supergraph makes neither).
    if ('requestId' in context) {
      headers[REQUEST_ID_HEADER] = context.requestId;
      if (context.identity) headers[IDENTITY_HEADER] = context.identity;
    }
    const { query, operationName, variables, extensions } = request;
    const body = JSON.stringify({ query, operationName, variables, extensions });
    const answer = await this.call(this.url, headers, body, operationKind(options));
    const parsed = parseBody(answer);
    if (answer.status < 200 || answer.status > 299) throw errorFromAnswer(this.url, answer, parsed);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`Expected JSON response body, but received: ${answer.text.slice(0, 200)}`);
    return parsed as GatewayGraphQLResponse;
  }
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

function parseBody(answer: SubgraphAnswer): unknown {
  const json = answer.contentType?.startsWith('application/json') || answer.contentType?.startsWith('application/graphql-response+json');
  return json ? JSON.parse(answer.text) : answer.text;
}

function errorFromAnswer(url: string, answer: SubgraphAnswer, body: unknown): GraphQLError {
  const statusText = STATUS_CODES[answer.status] ?? '';
  const code = answer.status === 401 ? 'UNAUTHENTICATED' : answer.status === 403 ? 'FORBIDDEN' : undefined;
  return new GraphQLError(`${answer.status}: ${statusText}`, {
    extensions: { ...(code ? { code } : {}), response: { url, status: answer.status, statusText, body } },
  });
}
