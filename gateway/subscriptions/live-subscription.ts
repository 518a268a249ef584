import { executeQueryPlan, type ServiceMap } from '@apollo/gateway';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { GraphQLError, type FormattedExecutionResult, type GraphQLFormattedError } from 'graphql';
import type { Caller } from '@popug/lib/identity';
import { isClientError, maskError } from '@popug/lib/graphql-errors';
import type { GatewayContext } from '../context';
import { EventQueue } from './event-queue';
import type { Admitted, ClientConnection, FederatedSubscriptionsOptions } from './federated-subscriptions';
import type { SubscriptionPlan } from './plans';
import type { SessionEnd, Watched } from './session-watch';
import type { UpstreamSink, UpstreamSubscription } from './upstream';

/** What a stream carries: results as the client reads them (errors formatted and masked). */
export type StreamResult = FormattedExecutionResult;

/** Why a live stream ends early: the code of its last (error) event. */
export type StreamEnd = SessionEnd | 'SUBSCRIPTION_INTERRUPTED' | 'SLOW_CONSUMER';

export const END_MESSAGES: Record<StreamEnd, string> = {
  SESSION_EXPIRED: 'The access token expired: renew it and subscribe again',
  SESSION_ENDED: 'This session has ended: sign in again',
  ACCOUNT_DEACTIVATED: 'This account is deactivated',
  SUBSCRIPTION_INTERRUPTED: 'The subscription was interrupted: subscribe again, and catch up with a query',
  SLOW_CONSUMER: 'Events came faster than they were read: subscribe again, and catch up with a query',
};

/** Results a client may fall behind by before it is dropped as a slow consumer. */
export const EVENT_QUEUE_BOUND = 256;

/** What a subscription tells its owner when it ends: the limits it held are released. */
export interface SubscriptionOwner {
  released(subscription: LiveSubscription): void;
}

/**
 * One client's subscription: its upstream subscription, its watch entry and its queue of
 * results, in one object. It is the stream the transport reads (an EventQueue), the sink of
 * its upstream subscription and the watch's entry, so an idle subscriber holds no closures of
 * its own (docs/performance.md "Live updates": ~10 closures and their contexts were ~1 KiB each).
 */
export class LiveSubscription extends EventQueue<StreamResult> implements UpstreamSink, Watched {
  caller: Caller;
  readonly expiresAtMs: number;
  private upstreamSubscription?: UpstreamSubscription;
  /** Events run one after another, in the order the subgraph sent them. */
  private chain: Promise<void> = Promise.resolve();
  /** How the stream ended, for the metrics: until something else ends it, the client left. */
  private outcome = 'client_left';

  constructor(
    private readonly options: FederatedSubscriptionsOptions,
    private readonly admitted: Admitted,
    private readonly plan: SubscriptionPlan,
    private readonly owner: SubscriptionOwner,
    readonly connection: ClientConnection,
  ) {
    super(EVENT_QUEUE_BOUND);
    this.caller = admitted.caller;
    this.expiresAtMs = admitted.expiresAtMs;
    options.watch.add(this);
  }

  /** The stream the transport reads: this subscription itself. */
  get stream(): EventQueue<StreamResult> {
    return this;
  }

  /**
   * (Re)subscribes the primary fetch upstream with the caller's current statement. The
   * previous upstream subscription, if any, is unsubscribed first: nothing of it reaches
   * this stream after (upstream.ts drops what arrives for an unsubscribed one).
   */
  subscribe(): void {
    const { upstream, signer, urls } = this.options;
    const { primary } = this.plan;
    this.upstreamSubscription?.stop();
    this.upstreamSubscription = undefined;
    if (!this.open) return;
    const url = urls[primary.serviceName];
    if (!url) throw new Error(`No URL for subgraph ${primary.serviceName}`);
    this.upstreamSubscription = upstream.subscribe(
      {
        subgraph: primary.serviceName,
        url,
        query: primary.operation,
        operationName: primary.operationName,
        variables: pickVariables(this.admitted.variables, primary.variableUsages),
        statement: signer.forRequest(this.caller, this.admitted.requestId)(primary.serviceName),
        requestId: this.admitted.requestId,
      },
      this,
    );
  }

  /** UpstreamSink: an event from the subgraph. */
  event(result: FormattedExecutionResult): void {
    if (!this.open) return;
    if (!result.data) {
      // An error event (FORBIDDEN once the caller may no longer see it, SLOW_CONSUMER): passed on, and the stream ends.
      const errors = result.errors ?? [];
      this.after(() => this.finish({ errors: clientErrors(errors) }));
      return;
    }
    const data = result.data;
    this.after(() => this.runEvent(data));
  }

  /** UpstreamSink: the subgraph completed the subscription. */
  complete(): void {
    if (this.open) this.after(() => this.finish());
  }

  /** UpstreamSink: the subgraph refused the subscription, or the socket to it was lost. */
  lost(errors?: readonly GraphQLFormattedError[]): void {
    if (!this.open) return;
    this.after(() => this.finish(errors?.length ? { errors: clientErrors(errors) } : endResult('SUBSCRIPTION_INTERRUPTED')));
  }

  /** Watched: the session ended, the account was deactivated or the token expired. */
  ended(code: SessionEnd): void {
    this.finish(endResult(code));
  }

  /** Watched: a new role; the subgraph decides again what this caller may see, from a fresh statement. */
  changed(caller: Caller): void {
    this.caller = caller;
    this.subscribe();
  }

  /** Ends the client's stream after what is queued, with `last` (an error event) when given. */
  finish(last?: StreamResult): void {
    if (this.open) this.outcome = String(last?.errors?.[0]?.extensions?.code ?? 'complete');
    this.end(last);
  }

  protected override overflowResult(): StreamResult {
    this.outcome = 'SLOW_CONSUMER';
    return endResult('SLOW_CONSUMER');
  }

  protected override returned(): void {
    this.upstreamSubscription?.stop();
    this.upstreamSubscription = undefined;
    this.options.watch.delete(this);
    this.owner.released(this);
    this.options.ended?.(this.outcome);
  }

  private after(step: () => Promise<void> | void): void {
    this.chain = this.chain.then(step).catch((error: unknown) => {
      this.options.logger.error({ err: error, requestId: this.admitted.requestId }, 'a subscription event failed');
      this.finish({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR', requestId: this.admitted.requestId } }] });
    });
  }

  /** The event through the plan's entity fetches: `executeQueryPlan` with the primary answered from the event. */
  private async runEvent(data: Record<string, unknown>): Promise<void> {
    if (!this.open) return;
    const { plans, sources, signer, logger } = this.options;
    const { primary, eventPlan, operationContext } = this.plan;
    const context: GatewayContext = { requestId: this.admitted.requestId, caller: this.caller, statementFor: signer.forRequest(this.caller, this.admitted.requestId) };
    const serviceMap: ServiceMap = { ...sources };
    const stock = sources[primary.serviceName];
    serviceMap[primary.serviceName] = {
      process: (options) => (options.request.query === primary.operation ? Promise.resolve({ data }) : stock!.process(options)),
    };
    // What executeQueryPlan reads of Apollo's request context: the request's variables, the
    // context handed to data sources, a logger and a metrics object. Built here because no
    // Apollo request runs for an event; the cast states that the rest is never read.
    const requestContext = {
      request: { variables: this.admitted.variables, operationName: this.admitted.operationName },
      context,
      logger,
      metrics: {},
      operationName: this.admitted.operationName ?? null,
    } as unknown as GatewayGraphQLRequestContext;
    const result = await executeQueryPlan(eventPlan, serviceMap, requestContext, operationContext, plans.supergraphSchema, plans.apiSchema);
    const errors = result.errors?.map((error) => {
      const formatted = error instanceof GraphQLError ? error.toJSON() : { message: String((error as Error).message) };
      if (!isClientError(formatted)) logger.error({ err: error, requestId: this.admitted.requestId }, 'a subscription event met an error');
      return maskError(formatted);
    });
    this.push(errors?.length ? { data: result.data, errors } : { data: result.data });
  }
}

export function endResult(code: StreamEnd): StreamResult {
  return { errors: [{ message: END_MESSAGES[code], extensions: { code } }] };
}

/** A subgraph's error event as the client may see it: codes kept, anything unexpected masked. */
function clientErrors(errors: readonly GraphQLFormattedError[]): GraphQLFormattedError[] {
  return errors.map((error) => maskError(error));
}

function pickVariables(variables: Record<string, unknown>, usages: readonly string[] | undefined): Record<string, unknown> {
  const picked: Record<string, unknown> = {};
  for (const name of usages ?? []) if (Object.hasOwn(variables, name) && variables[name] !== undefined) picked[name] = variables[name];
  return picked;
}
