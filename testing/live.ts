import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';

/** One GraphQL-over-SSE event as a client reads it. */
export interface LiveEvent {
  event: 'next' | 'complete';
  data?: { data?: unknown; errors?: { message: string; extensions?: { code?: string } }[] };
}

/** A subscription opened over SSE (distinct connections): its HTTP status, and its events as they come. */
export interface SseSubscription {
  status: number;
  /** The JSON body of a refused request (not an event stream). */
  refusal?: { errors?: { extensions?: { code?: string } }[] };
  /** The next event, or undefined once the stream ended; fails after `timeoutMs`. */
  next(timeoutMs?: number): Promise<LiveEvent | undefined>;
  close(): void;
}

/** POST /graphql with `Accept: text/event-stream`, as graphql-sse's client in distinct-connections mode sends it. */
export async function subscribeSse(graphqlUrl: string, body: Record<string, unknown>, token?: string): Promise<SseSubscription> {
  const abort = new AbortController();
  const response = await fetch(graphqlUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  if (!response.headers.get('content-type')?.startsWith('text/event-stream')) {
    const refusal = (await response.json().catch(() => ({}))) as SseSubscription['refusal'];
    return { status: response.status, refusal, next: () => Promise.resolve(undefined), close: () => abort.abort() };
  }
  const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const events: LiveEvent[] = [];
  let ended = false;
  const read = async (): Promise<void> => {
    const { value, done } = await reader.read();
    if (done) {
      ended = true;
      return;
    }
    buffer += value;
    let at: number;
    while ((at = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, at);
      buffer = buffer.slice(at + 2);
      const lines = block.split('\n').filter((line) => !line.startsWith(':'));
      const event = lines.find((line) => line.startsWith('event:'))?.slice(6).trim();
      const data = lines.find((line) => line.startsWith('data:'))?.slice(5).trim();
      if (event === 'next' || event === 'complete') events.push({ event, data: data ? (JSON.parse(data) as LiveEvent['data']) : undefined });
    }
  };
  return {
    status: response.status,
    async next(timeoutMs = 8000) {
      const deadline = Date.now() + timeoutMs;
      while (events.length === 0 && !ended) {
        if (Date.now() > deadline) throw new Error('no SSE event in time');
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([read(), new Promise((resolve) => (timer = setTimeout(resolve, Math.max(1, deadline - Date.now()))))]);
        clearTimeout(timer);
      }
      return events.shift();
    },
    close: () => abort.abort(),
  };
}

/** A graphql-ws client of the gateway's /graphql, signed in with `token` in the connection_init payload. */
export function wsClient(graphqlUrl: string, token?: string): Client {
  return createClient({
    url: graphqlUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  });
}

/** Results of one WebSocket subscription, read one at a time; `error` holds what ended it with an error message or a close. */
export function subscribeWs(client: Client, payload: { query: string; variables?: Record<string, unknown>; extensions?: Record<string, unknown> }) {
  const results: unknown[] = [];
  const waiters: (() => void)[] = [];
  const state: { done: boolean; error?: unknown } = { done: false };
  const wake = () => waiters.splice(0).forEach((resolve) => resolve());
  const unsubscribe = client.subscribe(payload, {
    next: (result) => {
      results.push(result);
      wake();
    },
    error: (error) => {
      state.error = error;
      state.done = true;
      wake();
    },
    complete: () => {
      state.done = true;
      wake();
    },
  });
  return {
    state,
    unsubscribe,
    async next(timeoutMs = 8000): Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined> {
      const deadline = Date.now() + timeoutMs;
      while (results.length === 0 && !state.done) {
        if (Date.now() > deadline) throw new Error('no WebSocket result in time');
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          timer = setTimeout(resolve, Math.max(1, deadline - Date.now()));
        });
        clearTimeout(timer);
      }
      return results.shift() as { data?: unknown; errors?: { extensions?: { code?: string } }[] } | undefined;
    },
  };
}
