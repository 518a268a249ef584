import type { OperationTypeNode } from 'graphql';
import { Agent, type Dispatcher } from 'undici';
import { IDENTITY_HEADER } from '@popug/lib/identity';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';

/** Keep-alive connections per subgraph origin: enough for the gateway's concurrency, bounded so a spike cannot open thousands. */
export const SUBGRAPH_CONNECTIONS = 64;

/**
 * One pooled HTTP/1.1 agent for every call the gateway makes to a subgraph (and to auth's
 * identity endpoint). Apollo's default fetcher (make-fetch-happen) costs several times more
 * CPU per call on loopback; see the gateway section of `npm run bench`.
 */
export function createSubgraphAgent(connections = SUBGRAPH_CONNECTIONS): Agent {
  // Idle connections are dropped by us first: 60 s here against the subgraphs' 65 s
  // (`server.keepAliveTimeout` in lib/http.ts; Node's own default is 5 s), so a subgraph's
  // idle timeout never closes a connection we are about to reuse. A drain still can: see
  // `isClosedBeforeAnswer`.
  return new Agent({ connections, keepAliveTimeout: 60_000, keepAliveMaxTimeout: 60_000, headersTimeout: 30_000, bodyTimeout: 30_000 });
}

/** What a subgraph answered, read whole: several waiting requests may each parse it. */
export interface SubgraphAnswer {
  status: number;
  contentType: string | undefined;
  text: string;
}

/** What decides whether a call may share another's answer. */
export interface Sharing {
  /** The operation's kind as the query planner parsed it (undefined when unknown): only a query may share a call. */
  kind?: OperationTypeNode;
  /**
   * Who the answer is for, when the call carries a gateway statement: the statement is made
   * for one request, so it cannot tell two requests of the same caller apart as it used to.
   * A call with a statement and no `caller` is never shared.
   */
  caller?: string;
  /**
   * The gateway's statement for this call (`x-popug-identity`), made only when the call is
   * sent: a read that joins another's call in flight needs none, and a signature is most of
   * what a shared read costs the gateway.
   */
  statement?: () => string;
}

/** POSTs one GraphQL request body to a subgraph URL. */
export type SubgraphCall = (url: string, headers: Record<string, string>, body: string, sharing?: Sharing) => Promise<SubgraphAnswer>;
/**
 * Differ per incoming request and do not change the answer: a shared call carries the first
 * request's. The statement among them: it names the request id, and the caller it speaks for is
 * in the key as `Sharing.caller`.
 */
const IGNORED_IN_KEY = new Set([REQUEST_ID_HEADER, IDENTITY_HEADER, 'traceparent', 'tracestate']);

/**
 * Where a query closed under is tried again: a connection of its own, closed after the answer
 * (`pipelining: 0`), never one of the pool's kept-alive ones. A draining subgraph closes all
 * its idle connections in the same instant, and the pool may not have read those closes yet
 * when the retry goes out: on another of them it met the same close (a rolling restart failed
 * 1 query in 4 runs of test/faults/rolling-restart.test.ts; gateway/test/subgraph-retry.test.ts
 * forces it). A new connection goes where the
 * Service sends new connections, to a pod that stays. Holds no connection between retries.
 */
const freshConnections = new Agent({ pipelining: 0, headersTimeout: 30_000, bodyTimeout: 30_000 });

/**
 * Subgraph calls over an undici dispatcher. Identical reads in flight at the same moment
 * (same subgraph, same body, same caller) share one call, as Hive Gateway does by
 * default: 50 clients asking for the same page cost the subgraph one query, not 50.
 * Mutations are always sent. A query retried goes over `retryDispatcher`.
 */
export function createSubgraphCaller(dispatcher: Dispatcher, retryDispatcher: Dispatcher = freshConnections): SubgraphCall {
  const targets = new Map<string, { origin: string; path: string }>();
  const inFlight = new Map<string, Promise<SubgraphAnswer>>();
  const targetOf = (url: string) => {
    let target = targets.get(url);
    if (!target) {
      const parsed = new URL(url);
      target = { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
      targets.set(url, target);
    }
    return target;
  };
  const send = (url: string, headers: Record<string, string>, body: string, over = dispatcher) => {
    const { origin, path } = targetOf(url);
    return post(over, { origin, path, method: 'POST', headers, body });
  };
  // A query reads only, so sending it twice is safe; a mutation the subgraph may have run is not.
  const sendQuery = (url: string, headers: Record<string, string>, body: string) =>
    send(url, headers, body).catch((error: unknown) => {
      if (!isClosedBeforeAnswer(error)) throw error;
      return send(url, headers, body, retryDispatcher);
    });
  const signed = (headers: Record<string, string>, { statement }: Sharing) => (statement ? { ...headers, [IDENTITY_HEADER]: statement() } : headers);
  return (url, headers, body, sharing = {}) => {
    const vouched = sharing.statement !== undefined || headers[IDENTITY_HEADER] !== undefined;
    if (sharing.kind !== 'query' || (vouched && sharing.caller === undefined)) return send(url, signed(headers, sharing), body);
    const key = dedupKey(url, headers, body, sharing.caller);
    let shared = inFlight.get(key);
    if (!shared) {
      shared = sendQuery(url, signed(headers, sharing), body).finally(() => inFlight.delete(key));
      inFlight.set(key, shared);
    }
    return shared;
  };
}

/**
 * One request, its answer gathered straight from undici's handler callbacks: `request()`
 * would wrap every answer in a Readable stream only for us to read it whole.
 */
function post(dispatcher: Dispatcher, options: Dispatcher.DispatchOptions): Promise<SubgraphAnswer> {
  return new Promise((resolve, reject) => {
    let answered = false;
    let status = 0;
    let contentType: string | undefined;
    let chunks: Buffer[] = [];
    dispatcher.dispatch(options, {
      // Its presence is what tells undici this handler speaks the callback API used here.
      onRequestStart() {},
      onResponseStart(_controller, statusCode, headers) {
        // Called again after a 1xx: only the final answer's status, headers and body count.
        answered = true;
        status = statusCode;
        const type = headers['content-type'];
        contentType = Array.isArray(type) ? type[0] : type;
        chunks = [];
      },
      onResponseData(_controller, chunk) {
        chunks.push(chunk);
      },
      onResponseEnd() {
        // Most answers arrive in one chunk: decode it as it is rather than copy it first.
        const whole = chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks);
        resolve({ status, contentType, text: whole.toString('utf8') });
      },
      onResponseError(_controller, error) {
        reject(answered ? new AnswerCutError(error) : error);
      },
    });
  });
}

/**
 * Undici's codes for a connection the server closed or reset under a request: a subgraph
 * draining (lib/http.ts `closeServer`) closes each idle kept-alive connection, and a call
 * sent on one in that instant meets the close. ECONNREFUSED (nobody listening) is not here:
 * a second try would find nobody either.
 */
const CLOSED_CODES = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE', 'UND_ERR_CLOSED']);

/** The connection went away before any byte of an answer: worth one more try, if the call is safe to repeat. */
export function isClosedBeforeAnswer(error: unknown): boolean {
  if (error instanceof AnswerCutError) return false;
  const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
  return typeof code === 'string' && CLOSED_CODES.has(code);
}

/** The connection failed after the answer began: the subgraph read the call, so it is not tried again. */
class AnswerCutError extends Error {
  constructor(cause: Error) {
    super(cause.message, { cause });
    this.name = 'AnswerCutError';
  }
}

/**
 * Plain concatenation, no JSON.stringify of the body (which would escape every quote of it
 * again): header names hold no colon or newline and values no newline, and the body comes
 * last, so two different calls never share a key.
 */
function dedupKey(url: string, headers: Record<string, string>, body: string, caller = ''): string {
  const names = Object.keys(headers)
    .filter((name) => !IGNORED_IN_KEY.has(name.toLowerCase()))
    .sort();
  let key = `${url}\n${caller}`;
  for (const name of names) key += `\n${name.toLowerCase()}:${headers[name]}`;
  return `${key}\n\n${body}`;
}
