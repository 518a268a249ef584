import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HeaderMap, type ApolloServer, type BaseContext, type HTTPGraphQLRequest } from '@apollo/server';
import { BODY_ERROR_MESSAGES, bodyErrorPayload } from './body-errors';
import type { Logger } from './logger';

/** The largest GraphQL request body read (the contract's operations are a few kB). */
export const GRAPHQL_MAX_BODY_BYTES = 1024 * 1024;

/** A request as Apollo will read it, before it parses anything: what an admission check decides on. */
export type HTTPGraphQLInput = Pick<HTTPGraphQLRequest, 'method' | 'search' | 'body'>;

/** Why a request is refused before Apollo sees it: answered as a GraphQL error with this status and code. */
export interface GraphQLRefusal {
  status: number;
  code: string;
  message: string;
}

export type GraphQLAdmission = (request: HTTPGraphQLInput) => GraphQLRefusal | undefined;

export interface GraphQLEndpointOptions<TContext extends BaseContext> {
  /** The path GraphQL is served on; every other request goes to `otherwise`. */
  path: string;
  /** Where a failure that escaped Apollo is told. */
  logger: Logger;
  /** Largest JSON body read (default GRAPHQL_MAX_BODY_BYTES); a larger one is refused with 413 before it is parsed. */
  maxBodyBytes?: number;
  context: (req: IncomingMessage) => Promise<TContext>;
  /**
   * Decides on each request once its body is read, before the context is built and before
   * Apollo parses or validates anything (the gateway's trusted documents): a refusal is
   * answered here, and nothing else runs.
   */
  admit?: GraphQLAdmission;
  /** What serves everything else (health, metrics, pages): an Express app. */
  otherwise: RequestListener;
  /**
   * Serves a request that asks for `Accept: text/event-stream` (GraphQL over SSE: the gateway's
   * subscriptions), once its body is read by the same rules; `admit` and Apollo never see it.
   */
  eventStream?: (req: IncomingMessage, res: ServerResponse, request: HTTPGraphQLInput) => Promise<void>;
}

/**
 * Serves Apollo on `path` straight from Node's HTTP server, and hands every other request
 * to `otherwise`. Express in front of GraphQL cost a router pass, a body-parser and an ETag
 * hash of every answer — about a tenth of the gateway's CPU per request (docs/performance.md
 * "Performance"). The body rules are body-parser's: JSON only when the content type says
 * so, UTF-8, no content encoding, an object or an array at the top, at most `maxBodyBytes`;
 * refusals answer with the same GraphQL-shaped JSON errors as the Express routes.
 */
export function graphqlEndpoint<TContext extends BaseContext>(apollo: ApolloServer<TContext>, options: GraphQLEndpointOptions<TContext>): RequestListener {
  apollo.assertStarted('graphqlEndpoint()');
  return (req, res) => {
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    if (pathname !== options.path && pathname !== `${options.path}/`) {
      void options.otherwise(req, res);
      return;
    }
    serveGraphQL(apollo, options, req, res, queryAt === -1 ? '' : url.slice(queryAt)).catch((error: unknown) => {
      // Apollo answers every failure it meets itself: one that reaches here escaped it, and is
      // the only trace of a 500 that carries no request id.
      options.logger.error({ err: error, method: req.method }, 'a GraphQL request failed outside the GraphQL server');
      if (!res.headersSent) sendJson(res, 500, bodyErrorPayload('Internal server error', 'INTERNAL_SERVER_ERROR'));
      else res.destroy(error instanceof Error ? error : undefined);
    });
  };
}

async function serveGraphQL<TContext extends BaseContext>(
  apollo: ApolloServer<TContext>,
  options: GraphQLEndpointOptions<TContext>,
  req: IncomingMessage,
  res: ServerResponse,
  search: string,
): Promise<void> {
  const body = await readBody(req, options.maxBodyBytes ?? GRAPHQL_MAX_BODY_BYTES);
  if ('refused' in body) {
    sendJson(res, body.refused, bodyErrorPayload(BODY_ERROR_MESSAGES[body.refused], 'BAD_REQUEST'));
    return;
  }
  const method = (req.method ?? 'GET').toUpperCase();
  // graphql-sse's own test of the header: exactly this media type.
  if (options.eventStream && req.headers.accept === 'text/event-stream') {
    await options.eventStream(req, res, { method, search, body: body.parsed });
    return;
  }
  const refusal = options.admit?.({ method, search, body: body.parsed });
  if (refusal) {
    sendJson(res, refusal.status, bodyErrorPayload(refusal.message, refusal.code));
    return;
  }
  const headers = new HeaderMap();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
  }
  const request: HTTPGraphQLRequest = { method, headers, search, body: body.parsed };
  const response = await apollo.executeHTTPGraphQLRequest({ httpGraphQLRequest: request, context: () => options.context(req) });
  for (const [name, value] of response.headers) res.setHeader(name, value);
  res.statusCode = response.status ?? 200;
  if (response.body.kind === 'complete') {
    res.end(response.body.string);
    return;
  }
  for await (const chunk of response.body.asyncIterator) res.write(chunk);
  res.end();
}

type BodyStatus = keyof typeof BODY_ERROR_MESSAGES;
export type Body = { parsed: unknown } | { refused: BodyStatus };

/** Reads a JSON body as body-parser's `json()` would; anything not JSON is left unread (Apollo refuses it). */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<Body> {
  const contentType = req.headers['content-type'];
  if (req.method !== 'POST' || !contentType || !isJsonType(contentType)) return { parsed: undefined };
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset && charset !== 'utf-8' && charset !== 'utf8') return { refused: 415 };
  const encoding = req.headers['content-encoding']?.toLowerCase();
  if (encoding && encoding !== 'identity') return { refused: 415 };
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > maxBytes) return { refused: 413 };
  const text = await readText(req, maxBytes);
  if (text === undefined) return { refused: 413 };
  if (text.trim() === '') return { parsed: {} };
  // body-parser's strict mode: only an object or an array at the top.
  if (!/^[\s\uFEFF]*[{[]/.test(text)) return { refused: 400 };
  try {
    return { parsed: JSON.parse(text) as unknown };
  } catch {
    return { refused: 400 };
  }
}

/**
 * The body as UTF-8 text, or undefined once it passes `maxBytes`: then the rest is left for
 * Node to drain, so the client still reads the 413 on a connection that stays usable.
 */
function readText(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= maxBytes) {
        chunks.push(chunk);
        return;
      }
      req.off('data', onData).off('end', onEnd).off('error', reject);
      req.resume();
      resolve(undefined);
    };
    // Its listeners go with the body: a request that stays open (an SSE stream) would hold them and its chunks.
    const onEnd = () => {
      req.off('data', onData).off('error', reject);
      resolve(Buffer.concat(chunks.splice(0)).toString('utf8'));
    };
    req.on('data', onData).once('end', onEnd).once('error', reject);
  });
}

function isJsonType(contentType: string): boolean {
  const mediaType = contentType.split(';', 1)[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || (mediaType.startsWith('application/') && mediaType.endsWith('+json'));
}

function sendJson(res: ServerResponse, status: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
