import type { MikroORM } from '@mikro-orm/postgresql';
import type { ShieldRule } from '@popug/lib/access/rule-tree';
import type { BusinessDay } from '@popug/lib/business-day';
import type { ChangeNotice, ChangeStream } from '@popug/lib/change-stream';
import type { Logger } from '@popug/lib/logger';
import { stillAdmitted } from '@popug/lib/subgraph/live-feed';
import { eventsMissed, LiveStream } from '@popug/lib/subgraph/live-stream';
import type { AnalyticsContext } from '../context';
import { dayAsked, summaryOf, type Summary } from './dashboard';

interface SummarySubscriber {
  context: AnalyticsContext;
  /** The day asked for; null follows today in the business time zone, past midnight too. */
  day: BusinessDay | null;
  /** The summary this subscriber has (the one read at subscribe, then each one sent), as JSON. */
  last: string;
  stream: LiveStream<Summary>;
}

export interface SummaryFeedOptions {
  /** analyticsUpdated's rule (permissions.ts), checked again at every re-read. */
  rule: ShieldRule;
  queueLimit: number;
  logger: Logger;
  businessTimeZone: string;
  /** At most one re-read per this many ms, however many notifications come. */
  coalesceMs?: number;
}

const DEFAULT_COALESCE_MS = 200;

/**
 * analyticsUpdated for every subscriber of this process. analytics has no outbox: its
 * replicator applies into the tables the summary reads, whose triggers notify
 * `popug_analytics` (lib/change-stream-triggers.ts). A notification, or a gap in the stream,
 * re-reads the summary of each day followed — at most once per 200 ms, a burst of applies
 * being one re-read — and a subscriber is sent it only when it differs from what it has.
 */
export class SummaryFeed {
  private readonly subscribers = new Set<SummarySubscriber>();
  private readonly stopListening: () => void;
  private timer: NodeJS.Timeout | undefined;
  private reading = false;
  private again = false;
  private lastRead = 0;

  constructor(
    private readonly orm: MikroORM,
    private readonly changes: ChangeStream,
    private readonly options: SummaryFeedOptions,
  ) {
    this.stopListening = changes.on((notice) => this.hear(notice));
  }

  async subscribe(context: AnalyticsContext, day: string | null | undefined): Promise<LiveStream<Summary>> {
    const asked = day === null || day === undefined ? null : dayAsked(day, this.options.businessTimeZone);
    await this.changes.start();
    const summary = await summaryOf(context.em, asked ?? dayAsked(null, this.options.businessTimeZone));
    const subscriber: SummarySubscriber = { context, day: asked, last: JSON.stringify(summary), stream: new LiveStream(this.options.queueLimit, () => this.subscribers.delete(subscriber)) };
    this.subscribers.add(subscriber);
    // A change committed between that read and now was heard by nobody yet: look once more.
    this.schedule();
    return subscriber.stream;
  }

  close(): void {
    this.stopListening();
    clearTimeout(this.timer);
    for (const subscriber of this.subscribers) subscriber.stream.end();
  }

  private hear(notice: ChangeNotice): void {
    // A gap is no loss here: the summary is re-read whole, so what was missed is in it.
    if (notice.kind === 'analytics' || notice.kind === 'gap') this.schedule();
  }

  private schedule(): void {
    if (this.timer || this.subscribers.size === 0) return;
    if (this.reading) {
      this.again = true;
      return;
    }
    const wait = Math.max(0, this.lastRead + (this.options.coalesceMs ?? DEFAULT_COALESCE_MS) - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.reread();
    }, wait);
  }

  private async reread(): Promise<void> {
    this.reading = true;
    this.lastRead = Date.now();
    try {
      await this.deliver();
    } catch (error) {
      this.options.logger.error({ err: error }, 'analyticsUpdated: re-reading the summary failed');
      for (const subscriber of this.subscribers) subscriber.stream.end(eventsMissed());
    } finally {
      this.reading = false;
      if (this.again) {
        this.again = false;
        this.schedule();
      }
    }
  }

  private async deliver(): Promise<void> {
    const subscribers = [...this.subscribers];
    if (subscribers.length === 0) return;
    const em = this.orm.em.fork();
    const today = dayAsked(null, this.options.businessTimeZone);
    const days = [...new Set(subscribers.map((subscriber) => subscriber.day ?? today))];
    // A few days at most (today, and the odd one a dashboard pins): one primary-key read each.
    const summaries = new Map(await Promise.all(days.map(async (day) => [day, await summaryOf(em, day)] as const)));
    for (const subscriber of await stillAdmitted(em, this.options.rule, subscribers)) {
      const summary = summaries.get(subscriber.day ?? today);
      const json = JSON.stringify(summary);
      if (!summary || json === subscriber.last) continue;
      subscriber.last = json;
      subscriber.stream.push(summary);
    }
  }
}
