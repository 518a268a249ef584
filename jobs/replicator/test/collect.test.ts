import { isolateTestFile } from '@popug/testing/isolation';
import { authDatabase } from '../../../subgraphs/auth/database';
import { collectAll, collectFrom } from '../collect';
import type { SourceRewind } from '../source-rewind';
import { masterDatabase } from '../master/database';
import { insertUserChanges } from './fixtures/databases';
import { useConnections } from './fixtures/connections';
import { useSource } from './fixtures/source';

const env = isolateTestFile();
const db = useConnections(env, ['auth', 'master']);
const { databases, source } = useSource(env, 'auth', authDatabase);

const outboxSize = async () => (await db.auth.query<{ n: number }>('select count(*)::int as n from outbox')).rows[0]?.n;
const logVersions = async () => (await db.master.query<{ version: string }>('select version::text from change_log order by version')).rows.map((row) => row.version);

test('collectAll empties the outbox in batches into a gap-free log, and a repeat copies nothing', async () => {
  expect(await insertUserChanges(db.auth, { users: 5, revisions: 1, tag: 'collect' })).toBe(5);
  expect(await collectAll(await databases.em(masterDatabase), source, 2)).toBe(5);
  expect(await outboxSize()).toBe(0);
  expect(await logVersions()).toEqual(['1', '2', '3', '4', '5']);
  expect(await collectAll(await databases.em(masterDatabase), source, 2)).toBe(0);
});

test('rows already in the log (a crash between copy and delete) leave the outbox without a second copy', async () => {
  await insertUserChanges(db.auth, { users: 3, revisions: 1, tag: 'again' });
  const { rows: before } = await db.auth.query('select seq, event_id, type, schema_version, payload, occurred_at from outbox order by seq');
  expect(await collectFrom(await databases.em(masterDatabase), source, 2)).toMatchObject({ read: 2, copied: 2, refused: 0, rewind: null });
  // As if the delete had never committed: the two collected rows are back in the outbox.
  for (const row of before.slice(0, 2)) {
    await db.auth.query('insert into outbox (seq, event_id, type, schema_version, payload, occurred_at) values ($1, $2, $3, $4, $5, $6)', [
      row.seq,
      row.event_id,
      row.type,
      row.schema_version,
      row.payload,
      row.occurred_at,
    ]);
  }
  expect(await collectAll(await databases.em(masterDatabase), source, 2)).toBe(1);
  expect(await outboxSize()).toBe(0);
  expect(await logVersions()).toEqual(['1', '2', '3', '4', '5', '6', '7', '8']);
});

test('a rewound outbox sequence (a source restored from backup) still gets its new events copied, once, and is reported once', async () => {
  await insertUserChanges(db.auth, { users: 2, revisions: 1, tag: 'before-rewind' });
  await collectAll(await databases.em(masterDatabase), source, 10);
  const { rows: high } = await db.auth.query<{ seq: string }>('select last_value::text as seq from outbox_seq_seq');
  await db.auth.query('alter sequence outbox_seq_seq restart with 1');
  const rewinds: SourceRewind[] = [];
  const collect = async () => collectAll(await databases.em(masterDatabase), source, 1, async (rewind) => void rewinds.push(rewind));
  await insertUserChanges(db.auth, { users: 3, revisions: 1, tag: 'after-rewind' });
  expect(await collect()).toBe(3);
  await insertUserChanges(db.auth, { users: 1, revisions: 1, tag: 'after-rewind' });
  expect(await collect()).toBe(1);
  expect(await outboxSize()).toBe(0);
  const { rows } = await db.master.query<{ n: number }>(`select count(*)::int as n from change_log where payload->>'email' like 'after-rewind-%'`);
  expect(rows[0]?.n).toBe(4);
  expect(await logVersions()).toHaveLength(14);
  expect(rewinds).toEqual([expect.objectContaining({ source: 'auth', previousHighSeq: high[0]?.seq, firstNewSeq: '1' })]);
  const { rows: recorded } = await db.master.query('select source, previous_high_seq::text, first_new_seq::text from source_rewinds');
  expect(recorded).toEqual([{ source: 'auth', previous_high_seq: high[0]?.seq, first_new_seq: '1' }]);
});

test('a row committed late (a seq below one already collected, never logged) is copied and is no rewind', async () => {
  const { rows } = await db.auth.query<{ seq: string }>(`select nextval('outbox_seq_seq')::text as seq`);
  await insertUserChanges(db.auth, { users: 1, revisions: 1, tag: 'on-time' });
  expect(await collectAll(await databases.em(masterDatabase), source, 10)).toBe(1);
  // The transaction that drew the reserved seq commits only now.
  await insertUserChanges(db.auth, { users: 1, revisions: 1, tag: 'late' });
  await db.auth.query('update outbox set seq = $1', [rows[0]?.seq]);
  const rewinds: SourceRewind[] = [];
  expect(await collectAll(await databases.em(masterDatabase), source, 10, async (rewind) => void rewinds.push(rewind))).toBe(1);
  expect(rewinds).toEqual([]);
});

test('a second restore, after the first was reported, is a new incident', async () => {
  await db.auth.query('alter sequence outbox_seq_seq restart with 1');
  await insertUserChanges(db.auth, { users: 2, revisions: 1, tag: 'second-rewind' });
  const rewinds: SourceRewind[] = [];
  expect(await collectAll(await databases.em(masterDatabase), source, 10, async (rewind) => void rewinds.push(rewind))).toBe(2);
  expect(rewinds).toEqual([expect.objectContaining({ source: 'auth', firstNewSeq: '1' })]);
  const { rows } = await db.master.query<{ n: number }>('select count(*)::int as n from source_rewinds');
  expect(rows[0]?.n).toBe(2);
});
