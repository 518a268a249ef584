import type { EntityManager } from '@popug/lib/db/orm';
import { executeSql } from '@popug/lib/db/sql';
import type { Logger } from '@popug/lib/logger';
import { enqueueAdminAlert, type AdminAlertQueue } from '@popug/lib/admin-alerts';

/** An incident the admins must hear of. `key` names the incident: one alert per key, ever. */
export interface AlertMessage {
  key: string;
  subject: string;
  text: string;
  /** How the dispatcher logs it: an incident is an error (the default), its end is news. */
  level?: 'error' | 'info';
}

/**
 * Records an alert in the master's outbox. Call it with the EntityManager of the master
 * transaction that records the incident itself (a source_rewinds row, a replica_state
 * change): the incident and its alert commit together or not at all, so nothing can record
 * an incident and then fail before telling anyone. The end of every replication pass tells
 * it (`dispatchAlerts`). Recording a key already recorded changes nothing; answers whether
 * this call recorded it.
 */
export async function recordAlert(master: EntityManager, alert: AlertMessage): Promise<boolean> {
  const rows = await executeSql(
    master,
    'insert into alerts (key, level, subject, text) values (?, ?, ?, ?) on conflict (key) do nothing returning id',
    [alert.key, alert.level ?? 'error', alert.subject, alert.text],
  );
  return rows.length > 0;
}

interface PendingAlert {
  id: string;
  key: string;
  level: 'error' | 'info';
  subject: string;
  text: string;
  logged: boolean;
}

/** Alerts told per call; more wait for the next pass. */
const BATCH = 50;

/**
 * Tells every alert not yet told: one log line (then `logged_at`, so an alert that cannot be
 * handed over yet does not log it again each pass), one job on auth's `admin-alerts` queue
 * (auth mails every active admin, keyed `alert:<key>:<email>`), then `sent_at`. The job is
 * added before the mark, so a crash or a Redis failure in between leaves the alert unsent
 * and a later pass adds it again — where the job id, and then the mail keys, swallow the
 * second copy. Runs inside the pass lock, so one dispatcher at a time. Answers how many
 * alerts were handed over; a failure leaves the rest for the next pass.
 */
export async function dispatchAlerts(master: EntityManager, alertQueue: AdminAlertQueue, logger: Logger): Promise<number> {
  const pending = await executeSql<PendingAlert>(
    master,
    'select id::text as id, key, level, subject, text, logged_at is not null as logged from alerts where sent_at is null order by id limit ?',
    [BATCH],
  );
  const unlogged = pending.filter((alert) => !alert.logged);
  for (const alert of unlogged) logger[alert.level]({ alert: alert.key, text: alert.text }, alert.subject);
  if (unlogged.length) await executeSql(master, 'update alerts set logged_at = clock_timestamp() where id = any(?::bigint[])', [unlogged.map((alert) => alert.id)]);
  if (pending.length === 0) return 0;
  for (const alert of pending) {
    await enqueueAdminAlert(alertQueue, { key: alert.key, subject: alert.subject, text: alert.text });
    await executeSql(master, 'update alerts set sent_at = clock_timestamp() where id = ?', [alert.id]);
  }
  return pending.length;
}
