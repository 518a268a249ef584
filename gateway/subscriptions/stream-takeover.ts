import { IncomingMessage, STATUS_CODES, type ServerOptions } from 'node:http';
import type { Duplex } from 'node:stream';

/**
 * GraphQL-over-SSE requests taken out of Node's HTTP server once their headers are read
 * (docs/performance.md "Live updates"). A request answered through the server keeps, for as
 * long as its response is open, Node's HTTP parser (~10 KiB of C++ memory, ~7 KiB resident),
 * the request and response objects and their stream states: ~18.6 KiB of RSS per idle event
 * stream on Node 26 with nothing else held, against ~5.8 KiB for the same stream on a socket
 * Node has handed over. An event stream never carries a second request, so the gateway takes
 * its socket the way Node hands over a WebSocket's: through the server's `upgrade` event, with
 * two documented options of `http.createServer` — `IncomingMessage` (the class of requests)
 * and `shouldUpgradeCallback` (which upgrades to accept).
 *
 * Node asks `request.upgrade` once the headers are read (a property of Node's request objects
 * that its documentation leaves out); a plain POST reads `false` there, so the request class
 * answers `true` for an event stream (GET or POST on the GraphQL path with
 * exactly `Accept: text/event-stream`, graphql-sse's test). Node then frees the parser and
 * emits `upgrade` with the request (its body still readable) and the socket, and the gateway
 * writes the response itself: status line, graphql-sse's headers, `Connection: close`, then the
 * stream, ended by closing the connection. Should a later Node stop asking, event streams
 * arrive as requests again and are served through the response as before
 * (`gateway/test/subscriptions.test.ts` says which way they came). It is used only on the Node
 * major it was verified on (`eventStreamPath`); `gateway/test/stream-takeover.test.ts` holds its
 * answers to the response path's.
 */
export function eventStreamTakeover(path: string): { serverOptions: ServerOptions; isEventStream(req: IncomingMessage): boolean } {
  const isEventStream = (req: IncomingMessage): boolean => {
    if (req.method !== 'POST' && req.method !== 'GET') return false;
    if (req.headers.accept !== 'text/event-stream') return false;
    const url = req.url ?? '/';
    const queryAt = url.indexOf('?');
    const pathname = queryAt === -1 ? url : url.slice(0, queryAt);
    return pathname === path || pathname === `${path}/`;
  };
  const upgradeAsked = Symbol('upgrade');

  /** A request that reads as an upgrade when it opens an event stream (its method and headers are known by then). */
  class StreamAwareRequest extends IncomingMessage {
    // Node's constructor assigns `upgrade` before any field of a subclass exists: kept under a symbol, not a private field.
    declare [upgradeAsked]: boolean | null;

    get upgrade(): boolean {
      return this[upgradeAsked] === true || (this.method !== undefined && isEventStream(this));
    }

    set upgrade(value: boolean) {
      this[upgradeAsked] = value;
    }
  }

  const serverOptions: ServerOptions = {
    IncomingMessage: StreamAwareRequest,
    // Every upgrade: the event streams, and WebSockets (Node's default when, as at the gateway, an `upgrade` listener exists).
    shouldUpgradeCallback: () => true,
  };
  return { serverOptions, isEventStream };
}

/** The Node major the takeover was verified on (docs/dependency-patches.md): it relies on Node reading `request.upgrade`, which Node's documentation does not promise. */
export const TAKEOVER_VERIFIED_NODE_MAJOR = 26;

/** How the gateway serves event streams, and why. */
export interface EventStreamPath {
  takeover: boolean;
  reason: string;
}

/** The takeover on the Node major it was verified on; on any other, event streams go through Node's response as every request does. */
export function eventStreamPath(nodeVersion: string): EventStreamPath {
  const major = Number(/^v?(\d+)\./.exec(nodeVersion)?.[1]);
  if (major === TAKEOVER_VERIFIED_NODE_MAJOR) return { takeover: true, reason: `Node ${nodeVersion} is the major the takeover was verified on` };
  return { takeover: false, reason: `Node ${nodeVersion} is not Node ${TAKEOVER_VERIFIED_NODE_MAJOR}, the major the takeover was verified on` };
}

/**
 * The head of a response written on a socket taken from Node's HTTP server: the connection
 * closes after it (an event stream ends that way; a refusal carries its length).
 */
export function responseHead(status: number, statusText: string | undefined, headers: Readonly<Record<string, string>>, contentLength?: number): string {
  let head = `HTTP/1.1 ${status} ${statusText ?? STATUS_CODES[status] ?? ''}\r\n`;
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (lower === 'connection' || lower === 'content-length' || lower === 'date') continue;
    head += `${name}: ${value}\r\n`;
  }
  // Node's response sends the date (RFC 9110: an origin server with a clock does): so does this one.
  head += `date: ${new Date().toUTCString()}\r\n`;
  if (contentLength !== undefined) head += `content-length: ${contentLength}\r\n`;
  return `${head}connection: close\r\n\r\n`;
}

/** A whole response (a refusal) on a taken socket, then the socket ends. */
export function endTakenSocket(socket: Duplex, status: number, statusText: string | undefined, headers: Readonly<Record<string, string>>, body = ''): void {
  socket.end(responseHead(status, statusText, headers, Buffer.byteLength(body)) + body);
  // Read to the client's end, so the connection closes then rather than waiting half-closed.
  socket.on('end', () => socket.destroy());
  socket.resume();
}
