import { RemoteGraphQLDataSource, type GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { Agent, type Dispatcher } from 'undici';
import { IDENTITY_HEADER, REQUEST_ID_HEADER } from '@popug/lib';
import type { GatewayContext } from './context';

type Fetcher = RemoteGraphQLDataSource['fetcher'];

/** Keep-alive connections per subgraph origin: enough for the gateway's concurrency, bounded so a spike cannot open thousands. */
export const SUBGRAPH_CONNECTIONS = 64;

/**
 * One pooled HTTP/1.1 agent for every call the gateway makes to a subgraph (and to auth's
 * identity endpoint). Apollo's default fetcher (make-fetch-happen) costs several times more
 * CPU per call on loopback; see the gateway section of `npm run bench`.
 */
export function createSubgraphAgent(connections = SUBGRAPH_CONNECTIONS): Agent {
  return new Agent({ connections, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

/** What a subgraph answered, buffered, so that several waiting requests can each get a Response. */
interface Answer {
  status: number;
  headers: [string, string][];
  body: ArrayBuffer;
}

/** A read (`query …` or the `{ … }` shorthand) in the JSON body the gateway sends; mutations never match. */
const READ_BODY = /^\{"query":"(query\b|\{)/;
/** Differs per incoming request and does not change the answer. */
const IGNORED_IN_KEY = new Set([REQUEST_ID_HEADER]);

/**
 * A fetch-shaped function over an undici dispatcher, for RemoteGraphQLDataSource.
 * Identical reads in flight at the same moment (same subgraph, same body, same signed
 * caller) share one subgraph call, as Hive Gateway does by default: 50 clients asking for
 * the same page cost the subgraph one query, not 50. Mutations are always sent.
 */
export function createSubgraphFetcher(dispatcher: Dispatcher): Fetcher {
  const targets = new Map<string, { origin: string; path: string }>();
  const inFlight = new Map<string, Promise<Answer>>();
  const targetOf = (url: string) => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      targets.set(url, target);
    }
    return target;
  };
  const send = async (url: string, init: Parameters<Fetcher>[1] = {}): Promise<Answer> => {
    const { origin, path } = targetOf(url);
    const response = await dispatcher.request({
      origin,
      path,
      method: (init.method ?? 'GET') as Dispatcher.HttpMethod,
      headers: init.headers,
      body: init.body,
    });
    const body = await response.body.arrayBuffer();
    const headers: [string, string][] = [];
    for (const [name, value] of Object.entries(response.headers)) {
      if (Array.isArray(value)) for (const item of value) headers.push([name, item]);
      else if (value !== undefined) headers.push([name, value]);
    }
    return { status: response.statusCode, headers, body };
  };
  const toResponse = (answer: Answer) =>
    new Response(answer.status === 204 ? null : answer.body, { status: answer.status, headers: answer.headers });
  return async (url, init = {}) => {
    const body = typeof init.body === 'string' ? init.body : undefined;
    if (body === undefined || !READ_BODY.test(body)) return toResponse(await send(url, init));
    const key = dedupKey(url, init.headers ?? {}, body);
    let shared = inFlight.get(key);
    if (!shared) {
      shared = send(url, init).finally(() => inFlight.delete(key));
      inFlight.set(key, shared);
    }
    return toResponse(await shared);
  };
}

function dedupKey(url: string, headers: Record<string, string>, body: string): string {
  const names = Object.keys(headers)
    .filter((name) => !IGNORED_IN_KEY.has(name.toLowerCase()))
    .sort();
  return JSON.stringify([url, names.map((name) => [name.toLowerCase(), headers[name]]), body]);
}

/** Calls one subgraph, carrying the gateway's signed statement of who is calling. */
export class SubgraphSource extends RemoteGraphQLDataSource<GatewayContext> {
  override willSendRequest({ request, context }: GraphQLDataSourceProcessOptions<GatewayContext>): void {
    if (!('requestId' in context)) return;
    request.http?.headers.set(REQUEST_ID_HEADER, context.requestId);
    if (context.identity) request.http?.headers.set(IDENTITY_HEADER, context.identity);
  }
}
