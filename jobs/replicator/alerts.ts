import type { EntityManager } from '@mikro-orm/postgresql';
import type { AlertMessage } from './alert-outbox';
import type { SourceRewind } from './source-rewind';

export type Transition = 'incident-opened' | 'recovered';

/** The incident a transition belongs to, named by when it started. */
export interface IncidentChange {
  transition: Transition;
  incidentKey: string;
}

/**
 * Records a failed attempt. After `threshold` failures in a row an incident opens —
 * exactly once, however many passes keep failing — and the caller records its alert in the
 * same transaction.
 */
export async function recordFailure(
  master: EntityManager,
  replica: string,
  reason: string,
  poisonVersion: string | null,
  threshold: number,
  /** How far the replica got before failing, when known (a poison stops after the events before it). */
  watermark: string | null = null,
): Promise<IncidentChange | null> {
  const [state] = await master.execute<{ opened: boolean; started: string | null }[]>(
    `insert into replica_state (replica, watermark, consecutive_failures, last_error, last_error_at, poison_version, updated_at)
     values (?, coalesce(?::bigint, 0), 1, ?, now(), ?, now())
     on conflict (replica) do update set
       watermark = coalesce(?::bigint, replica_state.watermark),
       consecutive_failures = replica_state.consecutive_failures + 1,
       last_error = excluded.last_error, last_error_at = now(), poison_version = excluded.poison_version, updated_at = now(),
       incident_started_at = case
         when replica_state.incident_started_at is null and replica_state.consecutive_failures + 1 >= ? then now()
         else replica_state.incident_started_at end
     returning (incident_started_at = now() and consecutive_failures >= ?) as opened,
               (extract(epoch from incident_started_at) * 1000)::bigint::text as started`,
    [replica, watermark, reason.slice(0, 2000), poisonVersion, watermark, threshold, threshold],
  );
  return state?.opened && state.started ? { transition: 'incident-opened', incidentKey: state.started } : null;
}

/** Records a successful attempt; closes an open incident (the caller records the recovery's alert in the same transaction). */
export async function recordSuccess(
  master: EntityManager,
  replica: string,
  watermark: string,
  applied: number,
): Promise<IncidentChange | null> {
  const [previous] = await master.execute<{ started: string | null }[]>(
    `select (extract(epoch from incident_started_at) * 1000)::bigint::text as started
       from replica_state where replica = ?`,
    [replica],
  );
  await master.execute(
    `insert into replica_state (replica, watermark, consecutive_failures, last_applied_at, updated_at)
     values (?, ?, 0, case when ? > 0 then now() end, now())
     on conflict (replica) do update set watermark = excluded.watermark, consecutive_failures = 0,
       poison_version = null, incident_started_at = null,
       last_applied_at = coalesce(excluded.last_applied_at, replica_state.last_applied_at), updated_at = now()`,
    [replica, watermark, applied],
  );
  return previous?.started ? { transition: 'recovered', incidentKey: previous.started } : null;
}

/** The alert of an incident transition; its key makes a repeated pass harmless. */
export function incidentAlert(replica: string, { transition, incidentKey }: IncidentChange, detail: string): AlertMessage {
  if (transition === 'incident-opened') {
    return {
      key: `replica:${replica}:${incidentKey}:${transition}`,
      subject: `Replication to ${replica} is failing`,
      text: `The ${replica} replica stopped receiving changes.\n\nLast error: ${detail}\n\nOther replicas keep running. You will get one more mail when it recovers.`,
    };
  }
  return {
    key: `replica:${replica}:${incidentKey}:${transition}`,
    level: 'info',
    subject: `Replication to ${replica} has recovered`,
    text: `The ${replica} replica is receiving changes again and has caught up to version ${detail}.`,
  };
}

/** The alert of a source rewind (see source-rewind.ts): one per rewind. */
export function rewindAlert(rewind: SourceRewind): AlertMessage {
  const { source, previousHighSeq, firstNewSeq } = rewind;
  return {
    key: `source-rewind:${source}:${previousHighSeq}:${firstNewSeq}`,
    subject: `The ${source} database went back in time`,
    text:
      `The ${source} database handed out outbox sequence ${firstNewSeq} again, after the replicator had collected up to ${previousHighSeq}: ` +
      `it was most likely restored from a backup.\n\nEvery event written after the restore is still replicated. ` +
      `The events ${source} wrote between the backup and the restore are gone from ${source} itself but are still in the master log ` +
      `and in every replica. What the system repairs by itself and what to check is in docs/backup-and-restore.md ` +
      `(README, "Backup and restore").`,
  };
}

/** Events the log refused (collect.ts, DUPLICATES_SQL), as refused-events.ts reports them. */
export interface RefusedEvent {
  eventId: string;
  source: string;
  type: string;
  payload: unknown;
  reason: string;
}

/** The alert of a group of refused events; its key (the first event's id) makes a repeated report one alert. */
export function refusedAlert(refused: readonly RefusedEvent[]): AlertMessage {
  const source = refused[0]?.source ?? 'a source';
  const lines = refused.map((event) => `- ${event.type} ${JSON.stringify(event.payload)}: ${event.reason}`);
  return {
    key: `refused-events:${refused[0]?.eventId ?? 'none'}`,
    subject: `The master log refused ${refused.length} event${refused.length === 1 ? '' : 's'} from ${source}`,
    text:
      `These events would have paid money the log had already recorded as paid. They were not logged and were removed from the outbox; ` +
      `they are kept in the master's refused_events table.\n\n${lines.join('\n')}\n\n` +
      `Most likely accounting was restored or re-created and closed a day before it had read its own closes back from the log. ` +
      `Check the popugs' balances in accounting against the log (docs/backup-and-restore.md).`,
  };
}

/** The alert of a missing-database incident (`incidentKey`: when it started, missing-databases.ts). */
export function databaseMissingAlert(database: string, incidentKey: string): AlertMessage {
  return {
    key: `database-missing:${database}:${incidentKey}`,
    subject: `The database ${database} is missing`,
    text:
      `The database ${database} does not exist (it was dropped, or its server lost it). Nothing creates it again by itself: ` +
      `the services that need it report not ready, and the replicator retries it every pass.\n\n` +
      `Restore it from a backup (docs/backup-and-restore.md), or run \`npm run migrate\` to create it empty ` +
      `(accounting then recovers its payouts and closed days from the master log).`,
  };
}
