import type { EntityManager } from '@mikro-orm/postgresql';
import { enqueueMailToEach, type MailQueue, type MailRecipient, type ReplicaIncident } from '@popug/lib';
import type { SourceRewind } from './source-rewind';

export type Transition = 'incident-opened' | 'recovered';

/** The incident a transition belongs to, named by when it started. */
export interface IncidentChange {
  transition: Transition;
  incidentKey: string;
}

/**
 * Records a failed attempt. After `threshold` failures in a row an incident opens —
 * exactly once, however many passes keep failing — and the caller mails the admins.
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

/** Records a successful attempt; closes an open incident (the caller mails the recovery). */
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

/** One mail per admin per incident transition; the key makes a repeated pass harmless. */
export async function mailIncident(
  mailQueue: MailQueue,
  recipients: readonly MailRecipient[],
  replica: string,
  { transition, incidentKey }: IncidentChange,
  detail: string,
): Promise<void> {
  const subject =
    transition === 'incident-opened'
      ? `Replication to ${replica} is failing`
      : `Replication to ${replica} has recovered`;
  const text =
    transition === 'incident-opened'
      ? `The ${replica} replica stopped receiving changes.\n\nLast error: ${detail}\n\nOther replicas keep running. You will get one more mail when it recovers.`
      : `The ${replica} replica is receiving changes again and has caught up to version ${detail}.`;
  await enqueueMailToEach(mailQueue, recipients, { subject, text }, `replica:${replica}:${incidentKey}:${transition}`);
}

/** One mail per source rewind per admin (see source-rewind.ts). */
export async function mailRewind(mailQueue: MailQueue, recipients: readonly MailRecipient[], rewind: SourceRewind): Promise<void> {
  const { source, previousHighSeq, firstNewSeq } = rewind;
  const subject = `The ${source} database went back in time`;
  const text =
    `The ${source} database handed out outbox sequence ${firstNewSeq} again, after the replicator had collected up to ${previousHighSeq}: ` +
    `it was most likely restored from a backup.\n\nEvery event written after the restore is still replicated. ` +
    `The events ${source} wrote between the backup and the restore are gone from ${source} itself but are still in the master log ` +
    `and in every replica; see the README, Operations, "Backup and restore", for what to check.`;
  await enqueueMailToEach(mailQueue, recipients, { subject, text }, `source-rewind:${source}:${previousHighSeq}:${firstNewSeq}`);
}

/** One mail per incident a replica recorded per admin (see ReplicaIncidents). */
export async function mailReplicaIncident(
  mailQueue: MailQueue,
  recipients: readonly MailRecipient[],
  replica: string,
  incident: ReplicaIncident,
): Promise<void> {
  await enqueueMailToEach(mailQueue, recipients, { subject: incident.subject, text: incident.text }, `replica-incident:${replica}:${incident.key}`);
}
