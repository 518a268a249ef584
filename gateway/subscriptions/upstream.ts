import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createClient, type Client, type FormattedExecutionResult, type Sink } from 'graphql-ws';
import WebSocket from 'ws';
import { signAnonymousStatement, statementAudience, STATEMENT_MAX_SECONDS } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';

/** What one upstream subscription reports: events, then an end (the subgraph's complete) or a loss. */
export interface UpstreamSink {
  event(result: FormattedExecutionResult): void;
  /** The subgraph completed the subscription (after its last event, an error event perhaps). */
  complete(): void;
  /** The subgraph refused the subscription (`errors`), or the socket to it was lost (none). */
  lost(errors?: readonly { message: string; extensions?: Record<string, unknown> }[]): void;
}

/** One upstream subscription, as its subscriber holds it. */
export interface UpstreamSubscription {
  /** Unsubscribes: nothing reaches the sink after. */
  stop(): void;
}

export interface UpstreamRequest {
  subgraph: string;
  url: string;
  query: string;
  operationName?: string;
  variables: Record<string, unknown>;
  /** The caller's statement for this subgraph and this request id (lib/identity.ts). */
  statement: string;
  requestId: string;
}

/** The keep-alive ping to a subgraph: a dead one is noticed within two of these. */
const UPSTREAM_PING_MS = 15_000;

/**
 * The gateway's subscriptions to subgraphs: ONE graphql-ws client (subprotocol
 * graphql-transport-ws) per subgraph URL per gateway process, multiplexing every client's
 * subscription to that subgraph (docs/architecture.md "Subscriptions"). The socket opens with
 * the first subscription and closes with the last (graphql-ws's lazy mode). Its
 * `connection_init` carries an anonymous gateway statement for the subgraph; each subscribe
 * carries the caller's own statement and request id in `extensions`. A lost socket is not
 * retried here: each subscription on it ends with SUBSCRIPTION_INTERRUPTED (the client
 * re-subscribes, landing on whichever subgraph copy answers, and catches up with queries).
 */
export class UpstreamClients {
  private readonly clients = new Map<string, Client>();

  constructor(
    private readonly key: KeyObject,
    private readonly logger: Logger,
  ) {}

  /** Subscribes; `stop()` on the answer unsubscribes (graphql-ws sends `complete` upstream). */
  subscribe(request: UpstreamRequest, sink: UpstreamSink): UpstreamSubscription {
    const client = this.clientFor(request.subgraph, request.url);
    const relay = new UpstreamRelay(sink, request.subgraph, this.logger);
    relay.unsubscribe = client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query: request.query, operationName: request.operationName, variables: request.variables, extensions: { statement: request.statement, requestId: request.requestId } },
      relay,
    );
    return relay;
  }

  async close(): Promise<void> {
    const clients = [...this.clients.values()];
    this.clients.clear();
    await Promise.all(clients.map((client) => client.dispose()));
  }

  private clientFor(subgraph: string, url: string): Client {
    const wsUrl = url.replace(/^http/, 'ws');
    let client = this.clients.get(wsUrl);
    if (client) return client;
    client = createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      // Closed as soon as its last subscription ends (graphql-ws's lazy-close timer outlives dispose(), holding a stopping process).
      lazy: true,
      keepAlive: UPSTREAM_PING_MS,
      retryAttempts: 0,
      connectionParams: () => {
        const requestId = randomUUID();
        return { requestId, statement: signAnonymousStatement(this.key, { audience: statementAudience(subgraph), requestId, ttlSeconds: STATEMENT_MAX_SECONDS }) };
      },
      on: {
        closed: (event) => {
          const code = (event as { code?: number } | undefined)?.code;
          if (code !== 1000) this.logger.warn({ subgraph, code }, 'subscription socket to a subgraph closed');
        },
      },
    });
    this.clients.set(wsUrl, client);
    return client;
  }
}

/**
 * graphql-ws's sink for one upstream subscription (its methods are called on it), relaying to
 * ours until it ends or is unsubscribed: nothing reaches the sink after either. One object
 * per subscription rather than a closure per callback.
 */
class UpstreamRelay implements UpstreamSubscription, Sink<FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>> {
  unsubscribe?: () => void;
  private finished = false;

  constructor(
    private readonly sink: UpstreamSink,
    private readonly subgraph: string,
    private readonly logger: Logger,
  ) {}

  stop(): void {
    this.finished = true;
    this.unsubscribe?.();
  }

  next(result: FormattedExecutionResult<Record<string, unknown>, Record<string, unknown>>): void {
    if (!this.finished) this.sink.event(result);
  }

  complete(): void {
    if (this.finished) return;
    this.finished = true;
    this.sink.complete();
  }

  error(error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    if (!Array.isArray(error)) this.logger.warn({ err: error instanceof Error ? error : undefined, code: (error as { code?: number } | undefined)?.code, subgraph: this.subgraph }, 'a subscription to a subgraph was lost');
    // graphql-ws hands a subscription's `error` message as the GraphQL errors, a socket's end as its CloseEvent or an Error.
    this.sink.lost(Array.isArray(error) ? (error as { message: string; extensions?: Record<string, unknown> }[]) : undefined);
  }
}
