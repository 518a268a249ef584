import type { EntityManager } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import type { MailQueue, MailRecipient } from '@popug/lib/mail';
import type { ReplicaIncidents } from '@popug/lib/replication/replica';
import { activeHoldersOf } from '../../subgraphs/auth/services/user-directory';
import { dispatchAlerts, recordAlert } from './alert-outbox';
import { databaseMissingAlert, incidentAlert, recordFailure, recordSuccess, refusedAlert } from './alerts';
import { recordDatabaseBack, recordDatabaseMissing } from './missing-databases';
import { reportRefusedEvents } from './refused-events';

/** How many of a replica's recorded incidents one pass moves to the alert outbox; the rest wait for the next. */
const INCIDENTS_PER_PASS = 100;

export interface ReplicaFailure {
  reason: string;
  /** The event the replica stopped before, when a poison stopped it. */
  poisonVersion: string | null;
  /** How far the replica got before failing, when known. */
  watermark: string | null;
}

/**
 * Keeps each replica's health in the master's replica_state and records an alert when an
 * incident opens (after REPLICA_ALERT_AFTER_FAILURES failures in a row) and when it ends,
 * in the same transaction as the state change: one alert per transition, whatever number
 * of passes see it. A source gone back in time records its own (source-rewind.ts). `tell`,
 * at the end of each pass, logs and mails every alert not yet told (alert-outbox.ts).
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
    await master.transactional(async (tx) => {
      const change = await recordSuccess(tx, replica, result.watermark, result.applied);
      if (change) await recordAlert(tx, incidentAlert(replica, change, result.watermark));
    });
  }

  async failed(master: EntityManager, replica: string, failure: ReplicaFailure): Promise<void> {
    const { reason, poisonVersion, watermark } = failure;
    await master.transactional(async (tx) => {
      const change = await recordFailure(tx, replica, reason, poisonVersion, this.env.REPLICA_ALERT_AFTER_FAILURES, watermark);
      if (change) await recordAlert(tx, incidentAlert(replica, change, reason));
    });
  }

  /**
   * Moves the incidents a replica recorded while applying (a task completed twice) into the
   * alert outbox, then marks them reported in the replica. A crash in between records them
   * again next pass, where their keys make no second alert.
   */
  async replicaRecorded(master: EntityManager, replica: string, em: EntityManager, incidents: ReplicaIncidents): Promise<void> {
    const pending = await incidents.unreported(em, INCIDENTS_PER_PASS);
    if (pending.length === 0) return;
    await master.transactional(async (tx) => {
      for (const incident of pending) {
        const details = Object.entries(incident.details).map(([name, value]) => `${name}: ${value}`).join('\n');
        await recordAlert(tx, { key: `replica-incident:${replica}:${incident.key}`, subject: incident.subject, text: `${incident.text}\n\n${details}` });
      }
    });
    await incidents.markReported(em, pending.map((incident) => incident.key));
  }

  /**
   * A replica whose database is missing: its failure is recorded (consecutive failures,
   * last error: the jobs worker's /health shows it degraded) without opening a replica
   * incident, since databaseMissing is the one alert about it.
   */
  async replicaDatabaseMissing(master: EntityManager, replica: string, database: string, reason: string): Promise<void> {
    await recordFailure(master, replica, reason, null, Number.MAX_SAFE_INTEGER);
    await this.databaseMissing(master, database);
  }

  /**
   * A database is missing (SQLSTATE 3D000): a line naming it on every pass that sees it,
   * and one alert per incident, recorded with the incident (missing-databases.ts).
   */
  async databaseMissing(master: EntityManager, database: string): Promise<void> {
    this.logger.error({ database }, `database ${database} is missing: nothing re-creates it; restore it or run \`npm run migrate\``);
    await master.transactional(async (tx) => {
      const incident = await recordDatabaseMissing(tx, database);
      if (incident) await recordAlert(tx, databaseMissingAlert(database, incident));
    });
  }

  /** A database seen missing answers again: the incident ends with a log line. */
  async databaseBack(master: EntityManager, database: string): Promise<void> {
    if (await recordDatabaseBack(master, database)) this.logger.info({ database }, `database ${database} is back`);
  }

  /** Events the log refused while collecting (collect.ts): one alert per group, recorded as they are marked reported. */
  async refusedEvents(master: EntityManager): Promise<void> {
    await master.transactional(async (tx) => {
      await reportRefusedEvents(tx, async (refused) => {
        await recordAlert(tx, refusedAlert(refused));
      });
    });
  }

  /** Logs and mails the alerts not yet told; what cannot be told now waits for the next pass. */
  async tell(master: EntityManager): Promise<void> {
    try {
      await dispatchAlerts(master, this.mailQueue, () => this.admins(), this.logger);
    } catch (error) {
      this.logger.warn({ err: error }, 'alerts not all told; the next pass tries again');
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
