import { Client } from 'pg';
import { today } from '@popug/lib/business-day';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';

/** Keeps the bench's rows apart from other seeds' source versions in the same database. */
const SOURCE_VERSION_BASE = 4_000_000_000;

/** The movements booked: transaction id → the account it moved. */
export type Booked = Map<string, string>;

/**
 * Books `rate` fees per second for `seconds` into accounting, each in its own transaction
 * as the replicator books a task's fee (one statement: the row and its account's balance),
 * each for the account of a subscriber drawn at random. The row's `created_at` is
 * `clock_timestamp()` taken as the statement runs, the last thing before its COMMIT (an
 * autocommitted statement), so a subscriber's latency is measured from the commit to
 * within a fraction of a millisecond, on the same host's clock. accounting's trigger
 * announces each row at COMMIT (lib/change-stream-triggers.ts), as it does the replicator's.
 */
export async function bookMovements(env: Env, userIds: readonly string[], load: { rate: number; seconds: number; serial: number }): Promise<Booked> {
  const client = new Client({ connectionString: databaseUrl(env, databaseName(env, 'accounting')) });
  await client.connect();
  const booked: Booked = new Map();
  const day = today(env.BUSINESS_TZ);
  const intervalMs = 1000 / load.rate;
  const total = load.rate * load.seconds;
  try {
    const start = performance.now();
    for (let n = 0; n < total; n++) {
      const userId = userIds[Math.floor(Math.random() * userIds.length)] as string;
      const sourceVersion = SOURCE_VERSION_BASE + load.serial * 1_000_000 + n;
      const { rows } = await client.query<{ id: string }>(
        `with booked as (
           insert into transactions (user_id, kind, amount, description, task_id, task_title, task_jira_id, business_day, created_at, source_version)
           values ($1, 'ASSIGN_FEE', -1500, 'Assign fee for [LIVE-' || $3::text || '] Live task', gen_random_uuid(), 'Live task', 'LIVE-' || $3::text, $2::date, clock_timestamp(), $3::bigint)
           returning id, user_id, amount
         ), moved as (
           update accounts a set balance = a.balance + b.amount, updated_at = now() from booked b where a.user_id = b.user_id
         )
         select id::text as id from booked`,
        [userId, day, sourceVersion],
      );
      booked.set(rows[0]?.id ?? '', userId);
      const wait = start + (n + 1) * intervalMs - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
  } finally {
    await client.end();
  }
  return booked;
}
