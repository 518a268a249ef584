import type { EntityManager, Env, Logger, MailQueue, MailRecipient, ReplicaIncidents } from '@popug/lib';
import { activeHoldersOf } from '../../subgraphs/auth/services/user-directory';
import type { SourceRewind } from './source-rewind';
import { mailIncident, mailReplicaIncident, mailRewind, recordFailure, recordSuccess, type IncidentChange } from './alerts';

/** How many of a replica's recorded incidents one pass tells; the rest wait for the next. */
const INCIDENTS_PER_PASS = 100;

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
   * Tells the incidents a replica recorded while applying (a task completed twice): a log
   * line and one mail per admin each, then marks them told. A failure leaves them to the
   * next pass, whose mails the keys make no second ones.
   */
  async replicaRecorded(replica: string, em: EntityManager, incidents: ReplicaIncidents): Promise<void> {
    const pending = await incidents.unreported(em, INCIDENTS_PER_PASS);
    if (pending.length === 0) return;
    const admins = await this.admins();
    for (const incident of pending) {
      this.logger.error({ replica, ...incident.details }, `${replica}: ${incident.subject}`);
      await mailReplicaIncident(this.mailQueue, admins, replica, incident);
    }
    await incidents.markReported(em, pending.map((incident) => incident.key));
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
