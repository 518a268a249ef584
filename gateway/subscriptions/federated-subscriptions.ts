import { randomUUID } from 'node:crypto';
import type { GraphQLDataSource } from '@apollo/gateway';
import { decodeJwt } from 'jose';
import { LRUCache } from 'lru-cache';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  specifiedRules,
  validate,
  type DocumentNode,
  type ParseOptions,
  type ValidationRule,
} from 'graphql';
import { bearerToken, type Caller } from '@popug/lib/identity';
import type { GraphQLRefusal } from '@popug/lib/graphql-endpoint';
import type { Logger } from '@popug/lib/logger';
import { findBadTextArgument } from '@popug/lib/text-input';
import type { IdentityClient } from '../identity-client';
import type { IdentitySigner } from '../identity-signer';
import { END_MESSAGES, LiveSubscription, type StreamResult, type SubscriptionOwner } from './live-subscription';
import type { SubscriptionPlan, SubscriptionPlans } from './plans';
import type { SessionWatch } from './session-watch';
import type { UpstreamClients } from './upstream';

/** A subscription request as a transport received it (graphql-sse's params, graphql-ws's subscribe payload). */
export interface SubscriptionParams {
  query: string;
  operationName?: string | null;
  variables?: Record<string, unknown> | null;
}

/** A subscription that passed admission: what `start` runs. */
export interface Admitted {
  document: DocumentNode;
  operationName?: string;
  variables: Record<string, unknown>;
  caller: Caller;
  /** The access token's expiry (ms): the stream ends then with SESSION_EXPIRED. */
  expiresAtMs: number;
  requestId: string;
}

/** Live subscriptions on one client connection (a WebSocket; each SSE stream is a connection of its own). */
export interface ClientConnection {
  live: number;
}

export interface SubscriptionLimits {
  perUser: number;
  perConnection: number;
}

export interface FederatedSubscriptionsOptions {
  plans: SubscriptionPlans;
  /** The gateway's data sources by subgraph name (the stock ones: statements, request ids). */
  sources: Readonly<Record<string, GraphQLDataSource>>;
  urls: Readonly<Record<string, string>>;
  identities: IdentityClient;
  signer: IdentitySigner;
  upstream: UpstreamClients;
  watch: SessionWatch;
  limits: SubscriptionLimits;
  validationRules: readonly ValidationRule[];
  parseOptions: ParseOptions;
  logger: Logger;
  /** Told how each stream ended: the code of its last event, `complete`, or `client_left` (metrics). */
  ended?: (outcome: string) => void;
}

/** Distinct subscription documents kept parsed: the manifest's few, or more with ALLOW_ARBITRARY_OPERATIONS. */
const DOCUMENTS_KEPT = 1_000;

const refusal = (status: number, code: string, message: string): GraphQLRefusal => ({ status, code, message });

/**
 * Federated subscriptions through public APIs of @apollo/gateway (docs/architecture.md
 * "Subscriptions"): admitted like queries, planned by the query planner (`SubscriptionNode`),
 * the primary fetch subscribed on the owning subgraph, and for each event `executeQueryPlan`
 * over `Sequence[primary, rest]` with a service map whose primary source answers with the event.
 */
export class FederatedSubscriptions implements SubscriptionOwner {
  private readonly live = new Set<LiveSubscription>();
  private readonly perUser = new Map<string, number>();
  private closing = false;
  /**
   * Valid documents by their text: every subscriber of one operation shares one parsed
   * document, and so one plan (plans.ts keys plans by document). Parsed per subscriber, each
   * held its own AST and plan: ~30 KiB and a query-planner run per subscription (docs/performance.md "Live updates").
   */
  private readonly documents = new LRUCache<string, DocumentNode>({ max: DOCUMENTS_KEPT });

  constructor(readonly options: FederatedSubscriptionsOptions) {}

  /**
   * What a query meets before it runs, for a subscription: the document's limits (parse tokens,
   * depth, cost, aliases), validation, a subscription and nothing else, variables of their
   * types, the text-input rules, and a signed-in caller. Trusted documents are the transport's
   * (the text must be known before this parses it).
   */
  async admit(params: SubscriptionParams, authorization: string | undefined): Promise<Admitted | GraphQLRefusal> {
    const { plans } = this.options;
    let document = this.documents.get(params.query);
    if (!document) {
      try {
        document = parse(params.query, this.options.parseOptions);
      } catch (error) {
        return refusal(400, 'GRAPHQL_PARSE_FAILED', (error as Error).message);
      }
      const invalid = validate(plans.schema, document, [...specifiedRules, ...this.options.validationRules]);
      if (invalid.length > 0) return refusal(400, 'GRAPHQL_VALIDATION_FAILED', invalid[0]!.message);
      this.documents.set(params.query, document);
    }
    const operationName = params.operationName ?? undefined;
    const operation = getOperationAST(document, operationName);
    if (!operation) return refusal(400, 'BAD_REQUEST', 'Name the operation to run');
    if (operation.operation !== 'subscription') return refusal(400, 'BAD_REQUEST', 'Only subscriptions are streamed: send queries and mutations as JSON POSTs to /graphql');
    const variables = params.variables ?? {};
    const coerced = getVariableValues(plans.schema, operation.variableDefinitions ?? [], variables);
    if (coerced.errors) return refusal(400, 'BAD_USER_INPUT', coerced.errors[0]!.message);
    const badText = findBadTextArgument(plans.schema, document, variables);
    if (badText) return refusal(400, 'BAD_USER_INPUT', badText.message);
    const token = bearerToken(authorization);
    if (!token) return refusal(401, 'UNAUTHENTICATED', 'Sign in first: subscriptions are for signed-in users');
    const requestId = randomUUID();
    let caller: Caller;
    try {
      caller = await this.options.identities.resolve(token, requestId);
    } catch (error) {
      if (error instanceof GraphQLError && error.extensions.code === 'UNAUTHENTICATED') return refusal(401, 'UNAUTHENTICATED', error.message);
      throw error;
    }
    const exp = decodeJwt(token).exp;
    return { document, operationName, variables, caller, requestId, expiresAtMs: typeof exp === 'number' ? exp * 1000 : Number.POSITIVE_INFINITY };
  }

  /** Starts an admitted subscription: its stream of results, or a refusal when a limit is spent. */
  start(admitted: Admitted, connection: ClientConnection): AsyncGenerator<StreamResult, undefined> | GraphQLRefusal {
    if (this.closing) return refusal(503, 'SUBSCRIPTION_INTERRUPTED', END_MESSAGES.SUBSCRIPTION_INTERRUPTED);
    const userId = admitted.caller.id;
    const held = this.perUser.get(userId) ?? 0;
    if (held >= this.options.limits.perUser) return refusal(429, 'RATE_LIMITED', `At most ${this.options.limits.perUser} live subscriptions per user`);
    if (connection.live >= this.options.limits.perConnection) return refusal(429, 'RATE_LIMITED', `At most ${this.options.limits.perConnection} live subscriptions per connection`);
    let plan: SubscriptionPlan;
    try {
      plan = this.options.plans.plan(admitted.document, admitted.operationName);
    } catch (error) {
      this.options.logger.error({ err: error, requestId: admitted.requestId }, 'a subscription could not be planned');
      return refusal(500, 'INTERNAL_SERVER_ERROR', 'Internal server error');
    }
    this.perUser.set(userId, held + 1);
    connection.live += 1;
    const subscription = new LiveSubscription(this.options, admitted, plan, this, connection);
    this.live.add(subscription);
    subscription.subscribe();
    return subscription.stream;
  }

  /** SubscriptionOwner: a stream ended, however it ended; the limits it held are free again. */
  released(subscription: LiveSubscription): void {
    if (!this.live.delete(subscription)) return;
    const userId = subscription.caller.id;
    const left = (this.perUser.get(userId) ?? 1) - 1;
    if (left > 0) this.perUser.set(userId, left);
    else this.perUser.delete(userId);
    subscription.connection.live -= 1;
  }

  /** Live subscriptions of this process. */
  get size(): number {
    return this.live.size;
  }

  /** SIGTERM: every stream completes (SSE `complete`), then the upstream sockets close. */
  async close(): Promise<void> {
    this.closing = true;
    for (const subscription of [...this.live]) subscription.finish();
    this.options.watch.close();
    await this.options.upstream.close();
  }
}
