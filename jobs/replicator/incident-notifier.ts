import type { EntityManager, Env, Logger, MailQueue, MailRecipient } from '@popug/lib';
import { activeHoldersOf } from '../../subgraphs/auth/services/user-directory';
import type { SourceRewind } from './source-rewind';
import { mailDatabaseMissing, mailIncident, mailRefused, mailRewind, recordFailure, recordSuccess, type IncidentChange, type RefusedEvent } from './alerts';
import { recordDatabaseAlerted, recordDatabaseBack, recordDatabaseMissing } from './missing-databases';

export interface ReplicaFailure {
  reason: string;
  /** The event the replica stopped before, when a poison stopped it. */
  poisonVersion: string | null;
  /** How far the replica got before failing, when known. */
  watermark: string | null;
}

/**
 * Keeps each replica's health in the master's replica_state and tells the admins when an
 * incident opens (after REPLICA_ALERT_AFTER_FAILURES failures in a row) and when it ends:
 * one mail per admin per transition, whatever number of passes see it. A source gone back
 * in time (a restore) is told the same way.
 */
export class IncidentNotifier {
  constructor(
    private readonly env: Pick<Env, 'ADMIN_EMAIL' | 'ADMIN_NAME' | 'REPLICA_ALERT_AFTER_FAILURES'>,
    private readonly logger: Logger,
    private readonly mailQueue: MailQueue,
    /** Auth's database, where the user directory lives. */
    private readonly authEm: () => Promise<EntityManager>,
  ) {}

  async succeeded(master: EntityManager, replica: string, result: { applied: number; watermark: string }): Promise<void> {
    const change = await recordSuccess(master, replica, result.watermark, result.applied);
    if (!change) return;
    this.logger.info({ replica }, 'replica recovered');
    await this.mail(replica, change, result.watermark);
  }

  async failed(master: EntityManager, replica: string, failure: ReplicaFailure): Promise<void> {
    const { reason, poisonVersion, watermark } = failure;
    const change = await recordFailure(master, replica, reason, poisonVersion, this.env.REPLICA_ALERT_AFTER_FAILURES, watermark);
    if (change) await this.mail(replica, change, reason);
  }

  /** A source went back in time (source-rewind.ts recorded it once): a clear log line and one mail. */
  async sourceRewound(rewind: SourceRewind): Promise<void> {
    const { source, previousHighSeq, firstNewSeq } = rewind;
    this.logger.error(
      { source, previousHighSeq, firstNewSeq },
      `source ${source} went back in time: outbox seq ${firstNewSeq} handed out again after ${previousHighSeq} was collected (restored from a backup?)`,
    );
    try {
      await mailRewind(this.mailQueue, await this.admins(), rewind);
    } catch (error) {
      this.logger.error({ err: error, source }, 'source rewind alert not queued');
    }
  }

  /**
   * A replica whose database is missing: its failure is recorded (consecutive failures,
   * last error: the jobs worker's /health shows it degraded) without opening a replica
   * incident, since databaseMissing is the one mail about it.
   */
  async replicaDatabaseMissing(master: EntityManager, replica: string, database: string, reason: string): Promise<void> {
    await recordFailure(master, replica, reason, null, Number.MAX_SAFE_INTEGER);
    await this.databaseMissing(master, database);
  }

  /**
   * A database is missing (SQLSTATE 3D000): a line naming it on every pass that sees it,
   * and one mail per incident. The replica's own failure count is left alone, so the
   * admins get this mail rather than a second one about the replica.
   */
  async databaseMissing(master: EntityManager, database: string): Promise<void> {
    this.logger.error({ database }, `database ${database} is missing: nothing re-creates it; restore it or run \`npm run migrate\``);
    try {
      const incident = await recordDatabaseMissing(master, database);
      if (incident === null) return;
      await mailDatabaseMissing(this.mailQueue, await this.admins(), database, incident);
      await recordDatabaseAlerted(master, database);
    } catch (error) {
      this.logger.error({ err: error, database }, 'missing database alert not queued');
    }
  }

  /** A database seen missing answers again: the incident ends with a log line. */
  async databaseBack(master: EntityManager, database: string): Promise<void> {
    if (await recordDatabaseBack(master, database)) this.logger.info({ database }, `database ${database} is back`);
  }

  /** Events the log refused (collect.ts): an error line and one mail per group. */
  async eventsRefused(refused: RefusedEvent[]): Promise<void> {
    this.logger.error({ refused }, `the master log refused ${refused.length} event(s): money already paid would have been paid again`);
    await mailRefused(this.mailQueue, await this.admins(), refused);
  }

  private async mail(replica: string, change: IncidentChange, detail: string): Promise<void> {
    try {
      await mailIncident(this.mailQueue, await this.admins(), replica, change, detail);
    } catch (error) {
      this.logger.error({ err: error, replica }, 'replication alert not queued');
    }
  }

  /** Who hears about incidents: active holders of user:manage in auth's directory, or the first admin. */
  private async admins(): Promise<MailRecipient[]> {
    try {
      const managers = await activeHoldersOf(await this.authEm(), 'user:manage');
      if (managers.length) return managers.map(({ email, name }) => ({ email, name }));
    } catch (error) {
      this.logger.warn({ err: error }, 'admins unknown; alerting the first admin');
    }
    return [{ email: this.env.ADMIN_EMAIL, name: this.env.ADMIN_NAME }];
  }
}
