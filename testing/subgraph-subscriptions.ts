import { randomUUID, type KeyObject } from 'node:crypto';
import { createClient, type Client } from 'graphql-ws';
import type { FormattedExecutionResult } from 'graphql';
import WebSocket from 'ws';
import { signAnonymousStatement, signIdentity, statementAudience, type Caller } from '../lib/identity';
import { loadPrivateKey } from '../lib/keys';
import type { Env } from '../lib/env';
import type { TestUser } from './people';
import { waitFor } from './wait';

/**
 * A gateway's side of a subgraph's subscriptions, for tests that talk to one subgraph
 * directly: one graphql-ws connection to its /graphql, opened with the gateway's anonymous
 * statement, each subscription with the statement made for its caller and request id.
 */
export interface SubgraphSubscriptions {
  subscribe(query: string, caller: Caller | null, variables?: Record<string, unknown>, statement?: (requestId: string) => string): LiveSubscription;
  /** The close codes of the connection, in order (the connection is not retried). */
  closes: number[];
  client: Client;
  dispose(): Promise<void>;
}

export interface LiveSubscription {
  /** Every `next` payload so far. */
  events: FormattedExecutionResult[];
  /** The `error` message's errors, when the subscription was refused with one. */
  refused: readonly unknown[] | undefined;
  completed: boolean;
  /** Waits until `events` has at least `count` entries (or the subscription ended); returns them. */
  waitForEvents(count: number, timeoutMs?: number): Promise<FormattedExecutionResult[]>;
  /** Waits until the subscription completed or was refused. */
  waitForEnd(timeoutMs?: number): Promise<void>;
  stop(): void;
}

/** A subgraph's caller as the gateway would state it, for a test user. */
export const callerOf = (user: Pick<TestUser, 'id' | 'email' | 'name' | 'role'>): Caller => ({ id: user.id, email: user.email, name: user.name, role: user.role, revision: 1 });

export function subgraphSubscriptions(env: Env, serviceUrl: string, subgraph: string, options: { key?: KeyObject; connectionStatement?: (requestId: string) => string } = {}): SubgraphSubscriptions {
  const key = options.key ?? loadPrivateKey(env, 'gateway');
  const audience = statementAudience(subgraph);
  const closes: number[] = [];
  const client = createClient({
    url: `${serviceUrl.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: false,
    onNonLazyError: () => undefined,
    connectionParams: () => {
      const requestId = randomUUID();
      return { requestId, statement: options.connectionStatement?.(requestId) ?? signAnonymousStatement(key, { audience, requestId }) };
    },
    on: { closed: (event) => closes.push((event as { code: number }).code) },
  });
  return {
    closes,
    client,
    subscribe(query, caller, variables = {}, statement) {
      const requestId = randomUUID();
      const signed = statement?.(requestId) ?? (caller ? signIdentity(caller, key, { audience, requestId }) : signAnonymousStatement(key, { audience, requestId }));
      const subscription: LiveSubscription = {
        events: [],
        refused: undefined,
        completed: false,
        async waitForEvents(count, timeoutMs = 10_000) {
          await waitFor(async () => (subscription.events.length >= count || subscription.completed || subscription.refused ? true : undefined), timeoutMs, `${count} subscription events`, 10);
          return subscription.events;
        },
        async waitForEnd(timeoutMs = 10_000) {
          await waitFor(async () => (subscription.completed || subscription.refused ? true : undefined), timeoutMs, 'the subscription to end', 10);
        },
        stop: () => stop(),
      };
      const stop = client.subscribe(
        { query, variables, extensions: { statement: signed, requestId } },
        {
          next: (result) => void subscription.events.push(result as FormattedExecutionResult),
          error: (error) => (subscription.refused = Array.isArray(error) ? error : [error]),
          complete: () => (subscription.completed = true),
        },
      );
      return subscription;
    },
    dispose: () => client.dispose() as Promise<void>,
  };
}
