import type { EntityManager } from '@popug/lib/db/orm';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import type { AdminAlertQueue } from '@popug/lib/admin-alerts';
import type { ReplicaIncidents } from '@popug/lib/replication/replica';
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
 * at the end of each pass, logs every alert not yet told and hands it to auth, which mails
 * every active admin (alert-outbox.ts, subgraphs/auth/worker/admin-alerts.ts).
 */
export class IncidentNotifier {
  constructor(
    private readonly env: Pick<Env, 'REPLICA_ALERT_AFTER_FAILURES'>,
    private readonly logger: Logger,
    /** Auth's `admin-alerts` queue: auth knows who the admins are and mails them. */
    private readonly alertQueue: AdminAlertQueue,
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

  /** Logs the alerts not yet told and hands them to auth; what cannot be handed now waits for the next pass. */
  async tell(master: EntityManager): Promise<void> {
    try {
      await dispatchAlerts(master, this.alertQueue, this.logger);
    } catch (error) {
      this.logger.warn({ err: error }, 'alerts not all told; the next pass tries again');
    }
  }
}
