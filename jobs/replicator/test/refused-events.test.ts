import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { migrateDatabase } from '@popug/lib/db/orm';
import { isolateTestFile } from '@popug/testing/isolation';
import { accountingDatabase } from '../../../subgraphs/accounting/database';
import { collectFrom } from '../collect';
import { masterDatabase } from '../master/database';
import { reportRefusedEvents } from '../refused-events';
import type { RefusedEvent } from '../alerts';
import { connectTo, insertRawEvent } from './fixtures/databases';
import { useConnections } from './fixtures/connections';
import { useSource } from './fixtures/source';

/**
 * The master log refuses money it already holds: a second payout.made of one user and
 * day, a second day.closed of one day (from the log or earlier in the same batch). The
 * collector records such a row in refused_events, takes it out of the outbox and goes on
 * with the rows after it, versions staying gap-free; the admins are told once.
 */
const env = isolateTestFile();
const db = useConnections(env, ['accounting', 'master']);
const { databases, source } = useSource(env, 'accounting', accountingDatabase);

const payout = (userId: string, businessDay: string, amount: number) => ({ userId, amount, businessDay, paidAt: `${businessDay}T23:00:00.000Z` });
const closed = (businessDay: string, payoutTotal: number) => ({ businessDay, closedAt: `${businessDay}T23:00:00.000Z`, payoutCount: 1, payoutTotal });
const count = async (client: Client, sql: string) => Number((await client.query<{ n: string }>(sql)).rows[0]?.n);

test('a second payout of a user and day, and a second close of a day, are refused, recorded and leave the outbox; the rest is logged gap-free', async () => {
  const [ann, bob] = [randomUUID(), randomUUID()];
  await insertRawEvent(db.accounting, 'payout.made', 1, payout(ann, '2026-02-01', 1000));
  await insertRawEvent(db.accounting, 'day.closed', 1, closed('2026-02-01', 1000));
  expect(await collectFrom(await databases.em(masterDatabase), source, 100)).toMatchObject({ read: 2, copied: 2, refused: 0 });

  // A restored accounting pays ann's day again (twice in one batch, even), closes it again, and pays bob for the first time.
  await insertRawEvent(db.accounting, 'payout.made', 1, payout(ann, '2026-02-01', 1200));
  await insertRawEvent(db.accounting, 'payout.made', 1, payout(bob, '2026-02-01', 700));
  await insertRawEvent(db.accounting, 'payout.made', 1, payout(bob, '2026-02-01', 700));
  await insertRawEvent(db.accounting, 'day.closed', 1, closed('2026-02-01', 1900));
  await insertRawEvent(db.accounting, 'payout.made', 1, payout(ann, '2026-02-02', 300));
  expect(await collectFrom(await databases.em(masterDatabase), source, 100)).toMatchObject({ read: 5, copied: 2, refused: 3 });

  expect(await count(db.accounting, 'select count(*)::text as n from outbox')).toBe(0);
  const { rows: log } = await db.master.query<{ version: string; type: string; day: string; amount: number | null }>(
    `select version::text, type, payload->>'businessDay' as day, (payload->>'amount')::int as amount from change_log order by version`,
  );
  expect(log).toEqual([
    { version: '1', type: 'payout.made', day: '2026-02-01', amount: 1000 },
    { version: '2', type: 'day.closed', day: '2026-02-01', amount: null },
    { version: '3', type: 'payout.made', day: '2026-02-01', amount: 700 },
    { version: '4', type: 'payout.made', day: '2026-02-02', amount: 300 },
  ]);
  const { rows: refused } = await db.master.query<{ type: string; amount: number | null }>(
    `select type, (payload->>'amount')::int as amount from refused_events order by type, amount`,
  );
  expect(refused).toEqual([
    { type: 'day.closed', amount: null },
    { type: 'payout.made', amount: 700 },
    { type: 'payout.made', amount: 1200 },
  ]);
  // The index refuses what the collector would have let through.
  await expect(
    db.master.query(
      `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
       values (5, 'accounting', 99, gen_random_uuid(), 'payout.made', 1, $1::jsonb, now())`,
      [JSON.stringify(payout(ann, '2026-02-01', 1))],
    ),
  ).rejects.toMatchObject({ code: '23505' });

  // Told once: a second report finds nothing new.
  const told: RefusedEvent[][] = [];
  const tell = async (events: RefusedEvent[]) => {
    told.push(events);
  };
  expect(await reportRefusedEvents(await databases.em(masterDatabase), tell)).toBe(3);
  expect(await reportRefusedEvents(await databases.em(masterDatabase), tell)).toBe(0);
  expect(told.map((events) => events.length)).toEqual([3]);
});

test('a report that fails to go out is tried again', async () => {
  await insertRawEvent(db.accounting, 'payout.made', 1, payout(randomUUID(), '2026-02-01', 10));
  await insertRawEvent(db.accounting, 'payout.made', 1, payout((await db.master.query<{ id: string }>(`select payload->>'userId' as id from change_log where version = 1`)).rows[0]?.id ?? '', '2026-02-01', 10));
  await collectFrom(await databases.em(masterDatabase), source, 100);
  await expect(reportRefusedEvents(await databases.em(masterDatabase), async () => Promise.reject(new Error('Redis away')))).rejects.toThrow('Redis away');
  expect(await reportRefusedEvents(await databases.em(masterDatabase), async () => undefined)).toBe(1);
});

test('a log that already holds a day paid twice (before the refusal existed) migrates, keeps both, and refuses a third', async () => {
  const older = { ...env, DB_PREFIX: `${env.DB_PREFIX}old_` };
  const { Migration20261206020000: _refusal, ...earlier } = masterDatabase.migrations;
  await migrateDatabase(older, { ...masterDatabase, migrations: earlier });
  const log = await connectTo(older, 'master');
  try {
    const twice = JSON.stringify(payout(randomUUID(), '2026-01-10', 500));
    for (const version of [1, 2]) {
      await log.query(
        `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
         values ($1, 'accounting', $1, gen_random_uuid(), 'payout.made', 1, $2::jsonb, now())`,
        [version, twice],
      );
    }
    await migrateDatabase(older, masterDatabase);
    expect(await count(log, `select count(*)::text as n from change_log where type = 'payout.made'`)).toBe(2);
    await expect(
      log.query(
        `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
         values (3, 'accounting', 3, gen_random_uuid(), 'payout.made', 1, $1::jsonb, now())`,
        [twice],
      ),
    ).rejects.toMatchObject({ code: '23505' });
  } finally {
    await log.end();
  }
});
