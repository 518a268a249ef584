import type { MikroORM } from '@mikro-orm/postgresql';
import type { ChangeNotice, ChangeStream } from '@popug/lib/change-stream';
import type { Logger } from '@popug/lib/logger';
import { reassignTasksOfInactiveUsers } from './deactivated-assignees';

/** How long a directory notice waits for more, so a burst of directory changes shares one sweep. */
export const SWEEP_DEBOUNCE_MS = 100;
/** After a failed sweep (the database away, its backend terminated), the next one starts after this wait. */
const RETRY_MS = 1_000;

/** Why a sweep runs: what its log line says. */
type SweepReason = 'start' | 'directory change' | 'listening again' | 'periodic' | 'retry';

interface WantedSweep {
  reason: SweepReason;
  /** A notice said someone was deactivated: the sweep waits out a shuffle in flight even with nothing to move yet. */
  afterDeactivation: boolean;
}

export interface InactiveAssigneesSweepOptions {
  /** The periodic sweep's period (INACTIVE_ASSIGNEES_SWEEP_MS). */
  intervalMs: number;
  logger: Logger;
  debounceMs?: number;
}

/**
 * Tracker's inactive-assignees worker, one per process (docs/architecture.md, Tracker rules):
 * each sweep is one transaction that hands the open tasks of users inactive now to active
 * receivers (deactivated-assignees.ts). Woken at once by tracker's copy of the directory
 * changing (the `directory_notify` trigger, heard on the process's change stream), and after
 * the stream was lost and is back; besides, a sweep at start and every `intervalMs`, so a
 * missed notification or a crash is repaired. One sweep at a time in a process; several
 * tracker processes are kept apart by the shuffle's lock.
 */
export class InactiveAssigneesSweep {
  private timer: NodeJS.Timeout | undefined;
  private interval: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private wanted: WantedSweep | undefined;
  private failed = false;
  private closed = false;
  private stopListening: (() => void) | undefined;

  constructor(
    private readonly orm: MikroORM,
    private readonly changes: ChangeStream | undefined,
    private readonly options: InactiveAssigneesSweepOptions,
  ) {}

  /** Listens for directory changes, sweeps once the stream listens (what changed before is found then), then every `intervalMs`. */
  start(): void {
    if (this.closed || this.interval) return;
    this.stopListening = this.changes?.on((notice) => this.hear(notice));
    const sweepAtStart = () => this.request({ reason: 'start', afterDeactivation: false }, 0);
    if (this.changes) void this.changes.start().then(sweepAtStart);
    else sweepAtStart();
    this.interval = setInterval(() => this.request({ reason: 'periodic', afterDeactivation: false }, 0), this.options.intervalMs).unref();
  }

  /** SIGTERM: no new sweep starts; the one in flight commits or rolls back before this resolves. */
  async close(): Promise<void> {
    this.closed = true;
    this.stopListening?.();
    clearTimeout(this.timer);
    clearInterval(this.interval);
    this.timer = undefined;
    await this.running;
  }

  private hear(notice: ChangeNotice): void {
    const debounceMs = this.options.debounceMs ?? SWEEP_DEBOUNCE_MS;
    if (notice.kind === 'directory') this.request({ reason: 'directory change', afterDeactivation: notice.deactivation }, debounceMs);
    // Notifications may have been missed while the stream was away: look.
    else if (notice.kind === 'gap') this.request({ reason: 'listening again', afterDeactivation: false }, debounceMs);
  }

  /** Wants a sweep: folded into the one already waiting, or run after the one in flight. */
  private request(wanted: WantedSweep, delayMs: number): void {
    if (this.closed) return;
    this.want(wanted);
    if (!this.running) this.schedule(delayMs);
  }

  private want(wanted: WantedSweep): void {
    this.wanted = { reason: this.wanted?.reason ?? wanted.reason, afterDeactivation: wanted.afterDeactivation || (this.wanted?.afterDeactivation ?? false) };
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.running = this.sweep().finally(() => {
        this.running = undefined;
        if (this.wanted) this.schedule(this.failed ? RETRY_MS : (this.options.debounceMs ?? SWEEP_DEBOUNCE_MS));
      });
    }, delayMs);
  }

  private async sweep(): Promise<void> {
    const wanted = this.wanted;
    this.wanted = undefined;
    if (!wanted) return;
    const { logger } = this.options;
    const startedAt = Date.now();
    try {
      const reassigned = await this.orm.em.fork().transactional((em) => reassignTasksOfInactiveUsers(em, wanted));
      this.failed = false;
      const fields = { reason: wanted.reason, reassigned, durationMs: Date.now() - startedAt };
      if (reassigned > 0) logger.info(fields, `inactive assignees: ${reassigned} open tasks handed on`);
      else logger.debug(fields, 'inactive assignees: nothing to hand on');
    } catch (error) {
      // Rolled back whole: nothing moved, no event written. Tried again, keeping what was wanted.
      this.failed = true;
      logger.error({ err: error, reason: wanted.reason }, `inactive assignees: the sweep failed; trying again in ${RETRY_MS} ms`);
      this.want({ reason: 'retry', afterDeactivation: wanted.afterDeactivation });
    }
  }
}
