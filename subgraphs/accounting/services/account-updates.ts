import type { MikroORM } from '@mikro-orm/postgresql';
import type { ShieldRule } from '@popug/lib/access/rule-tree';
import type { ChangeNotice, ChangeStream } from '@popug/lib/change-stream';
import { requireCaller } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';
import { Batcher, stillAdmitted } from '@popug/lib/subgraph/live-feed';
import { eventsMissed, LiveStream } from '@popug/lib/subgraph/live-stream';
import type { AccountingContext } from '../context';
import { movementsOf, type AccountMovement } from './account-reads';

/** Rows read per statement. */
const CHUNK = 1_000;

interface AccountSubscriber {
  context: AccountingContext;
  stream: LiveStream<AccountMovement>;
}

export interface AccountFeedOptions {
  /** myAccountUpdated's rule (permissions.ts), checked again before every delivery. */
  rule: ShieldRule;
  queueLimit: number;
  logger: Logger;
}

/**
 * myAccountUpdated for every subscriber of this process: each row booked in `transactions`
 * (a fee or reward the replicator applied, a payout of the day close) is announced by its
 * trigger with its id and account (lib/change-stream-triggers.ts); only rows of accounts
 * someone here follows are read, a burst with one statement per chunk, and each is sent to
 * the subscribers of its own account only.
 */
export class AccountFeed {
  private readonly subscribers = new Map<string, Set<AccountSubscriber>>();
  private readonly batcher: Batcher<string>;
  private readonly stopListening: () => void;

  constructor(
    private readonly orm: MikroORM,
    private readonly changes: ChangeStream,
    private readonly options: AccountFeedOptions,
  ) {
    this.batcher = new Batcher((ids) => this.deliver(ids), { chunk: CHUNK, onError: (error) => this.failed(error) });
    this.stopListening = changes.on((notice) => this.hear(notice));
  }

  async subscribe(context: AccountingContext): Promise<LiveStream<AccountMovement>> {
    const userId = requireCaller(context.caller).id;
    await this.changes.start();
    const own = this.subscribers.get(userId) ?? new Set();
    const subscriber: AccountSubscriber = {
      context,
      stream: new LiveStream(this.options.queueLimit, () => {
        own.delete(subscriber);
        if (own.size === 0) this.subscribers.delete(userId);
      }),
    };
    own.add(subscriber);
    this.subscribers.set(userId, own);
    return subscriber.stream;
  }

  close(): void {
    this.stopListening();
    for (const subscriber of this.everySubscriber()) subscriber.stream.end();
  }

  private hear(notice: ChangeNotice): void {
    if (notice.kind === 'gap') return this.endAll();
    if (notice.kind === 'transaction' && this.subscribers.has(notice.userId)) this.batcher.add(notice.id);
  }

  private async deliver(ids: string[]): Promise<void> {
    const em = this.orm.em.fork();
    const movements = await movementsOf(em, ids);
    const involved = new Set(movements.flatMap((movement) => [...(this.subscribers.get(movement.transaction.userId) ?? [])]));
    // Those refused are ended, and so gone from `subscribers` before the rows are handed out.
    await stillAdmitted(em, this.options.rule, involved);
    for (const movement of movements) {
      for (const subscriber of this.subscribers.get(movement.transaction.userId) ?? []) subscriber.stream.push(movement);
    }
  }

  /** A read failed: what the batch named is lost to its subscribers, who are told so. */
  private failed(error: unknown): void {
    this.options.logger.error({ err: error }, 'myAccountUpdated: reading booked rows failed');
    this.endAll();
  }

  private endAll(): void {
    for (const subscriber of this.everySubscriber()) subscriber.stream.end(eventsMissed());
  }

  private everySubscriber(): AccountSubscriber[] {
    return [...this.subscribers.values()].flatMap((own) => [...own]);
  }
}
