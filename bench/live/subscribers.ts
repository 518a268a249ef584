import { request, type ClientRequest } from 'node:http';

/** What one subscriber's stream delivered: each `next` event's data, with when it arrived (Date.now()). */
export type OnEvent = (subscriber: number, data: unknown, arrivedAt: number) => void;

/** Many GraphQL-over-SSE subscriptions (graphql-sse distinct connections), each its own HTTP connection. */
export interface Subscribers {
  /** Streams that ended (a `complete` event, an error event, a closed connection) since they opened. */
  ended(): number;
  close(): void;
}

/** Subscriptions being opened at once: each costs the gateway an identity lookup and an upstream subscribe. */
const OPENING_AT_ONCE = 100;
const OPEN_TIMEOUT_MS = 60_000;

/**
 * Opens `count` subscriptions, `POST url` with `Accept: text/event-stream`, each with the
 * headers `headersFor(n)` gives, and resolves once every one has answered with an event
 * stream (any other answer fails). Events are parsed with as little work as the protocol
 * allows, in this process (the load generator, charged to no server).
 */
export async function openSubscribers(url: string, count: number, body: string, headersFor: (subscriber: number) => Record<string, string>, onEvent: OnEvent): Promise<Subscribers> {
  const requests: ClientRequest[] = [];
  let ended = 0;
  const open = (subscriber: number) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent: false,
          headers: { 'content-type': 'application/json', accept: 'text/event-stream', 'content-length': Buffer.byteLength(body), ...headersFor(subscriber) },
          timeout: OPEN_TIMEOUT_MS,
        },
        (res) => {
          if (res.statusCode !== 200 || !res.headers['content-type']?.startsWith('text/event-stream')) {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => reject(new Error(`subscriber ${subscriber}: ${res.statusCode} ${text.slice(0, 300)}`)));
            return;
          }
          req.setTimeout(0);
          res.setEncoding('utf8');
          let buffer = '';
          res.on('data', (chunk: string) => {
            const arrivedAt = Date.now();
            buffer += chunk;
            let at: number;
            while ((at = buffer.indexOf('\n\n')) !== -1) {
              const block = buffer.slice(0, at);
              buffer = buffer.slice(at + 2);
              if (!block.startsWith('event: next') && !block.startsWith('event:next')) continue;
              const data = block.slice(block.indexOf('data:') + 5);
              onEvent(subscriber, JSON.parse(data), arrivedAt);
            }
          });
          res.on('close', () => ended++);
          resolve();
        },
      );
      req.on('error', reject);
      req.on('timeout', () => req.destroy(new Error(`subscriber ${subscriber}: no answer in ${OPEN_TIMEOUT_MS} ms`)));
      requests.push(req);
      req.end(body);
    });
  let next = 0;
  const worker = async () => {
    for (let subscriber = next++; subscriber < count; subscriber = next++) await open(subscriber);
  };
  try {
    await Promise.all(Array.from({ length: OPENING_AT_ONCE }, worker));
  } catch (error) {
    for (const req of requests) req.destroy();
    throw error;
  }
  return { ended: () => ended, close: () => requests.forEach((req) => req.destroy()) };
}
