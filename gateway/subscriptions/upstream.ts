import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { createClient, type Client, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { signAnonymousStatement, statementAudience, STATEMENT_MAX_SECONDS } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';

/** What one upstream subscription reports: events, then an end (the subgraph's complete) or a loss. */
export interface UpstreamSink {
  next(result: FormattedExecutionResult): void;
  /** The subgraph completed the subscription (after its last event, an error event perhaps). */
  complete(): void;
  /** The subgraph refused the subscription (`errors`), or the socket to it was lost (none). */
  lost(errors?: readonly { message: string; extensions?: Record<string, unknown> }[]): void;
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

  /** Subscribes; the returned function unsubscribes (graphql-ws sends `complete` upstream). */
  subscribe(request: UpstreamRequest, sink: UpstreamSink): () => void {
    const client = this.clientFor(request.subgraph, request.url);
    let finished = false;
    const unsubscribe = client.subscribe<Record<string, unknown>, Record<string, unknown>>(
      { query: request.query, operationName: request.operationName, variables: request.variables, extensions: { statement: request.statement, requestId: request.requestId } },
      {
        next: (result) => {
          if (!finished) sink.next(result);
        },
        complete: () => {
          if (finished) return;
          finished = true;
          sink.complete();
        },
        error: (error: unknown) => {
          if (finished) return;
          finished = true;
          if (!Array.isArray(error)) this.logger.warn({ err: error instanceof Error ? error : undefined, code: (error as { code?: number } | undefined)?.code, subgraph: request.subgraph }, 'a subscription to a subgraph was lost');
          // graphql-ws hands a subscription's `error` message as the GraphQL errors, a socket's end as its CloseEvent or an Error.
          sink.lost(Array.isArray(error) ? (error as { message: string; extensions?: Record<string, unknown> }[]) : undefined);
        },
      },
    );
    return () => {
      finished = true;
      unsubscribe();
    };
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
