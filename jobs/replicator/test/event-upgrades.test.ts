import { randomUUID } from 'node:crypto';
import { openDatabase, type EntityManager, type MikroORM } from '@popug/lib/db/orm';
import { EVENT_SCHEMAS, type EventType } from '@popug/lib/replication/events';
import type { ReplicaDefinition } from '@popug/lib/replication/replica';
import { isolateTestFile } from '@popug/testing/isolation';
import { readSlice } from '../log-reader';
import { masterDatabase } from '../master/database';
import { REPLICAS } from '../topology';
import { prepareDatabases } from './fixtures/databases';

/**
 * An event written in an old schema version must leave every replica exactly as the
 * same change written natively in the latest version would. Each old version of each
 * event type has cases here (the first test fails when a version has none): a history of
 * native events, then the old event; and the same history, then its native equivalent.
 * Both go through the master log and the log reader into each replica's own handler, one
 * event per batch and all in one batch, from an empty directory and as a rebuild over the
 * directory live application left, and the replicas' comparable state must be equal.
 */
interface LoggedEvent {
  type: EventType;
  schemaVersion: number;
  payload: Record<string, unknown>;
}

interface UpgradeCase {
  name: string;
  type: EventType;
  oldVersion: number;
  history: LoggedEvent[];
  old: LoggedEvent[];
  native: LoggedEvent[];
}

const env = isolateTestFile();
const opened = new Map<string, MikroORM>();
let master: MikroORM;

beforeAll(async () => {
  await prepareDatabases(env);
  master = await openDatabase(env, { ...masterDatabase, poolMax: 2 });
  for (const replica of REPLICAS) opened.set(replica.name, await openDatabase(env, { ...replica.database, poolMax: 2 }));
});
afterAll(async () => {
  for (const orm of opened.values()) await orm.close();
  await master?.close();
});

function userCases(): UpgradeCase[] {
  const person = () => {
    const id = randomUUID();
    return { id, email: `upgrade-${id.slice(0, 8)}@popug.test`, name: 'Polly', role: 'worker', active: true };
  };
  const registered = (user: ReturnType<typeof person>): LoggedEvent => ({ type: 'user.registered', schemaVersion: 1, payload: { ...user, revision: 1 } });
  const changedV1 = (payload: Record<string, unknown>): LoggedEvent => ({ type: 'user.changed', schemaVersion: 1, payload });
  const changedV2 = (payload: Record<string, unknown>, revision: number): LoggedEvent => ({ type: 'user.changed', schemaVersion: 2, payload: { ...payload, revision } });

  const deactivated = person();
  const promoted = person();
  const twice = person();
  const late = person();
  const renamed = person();
  return [
    {
      name: 'a deactivation after registration',
      type: 'user.changed',
      oldVersion: 1,
      history: [registered(deactivated)],
      old: [changedV1({ ...deactivated, active: false })],
      native: [changedV2({ ...deactivated, active: false }, 2)],
    },
    {
      name: 'a role change after a v2 change',
      type: 'user.changed',
      oldVersion: 1,
      history: [registered(promoted), changedV2({ ...promoted, name: 'Polly Parrot' }, 2)],
      old: [changedV1({ ...promoted, name: 'Polly Parrot', role: 'manager' })],
      native: [changedV2({ ...promoted, name: 'Polly Parrot', role: 'manager' }, 3)],
    },
    {
      name: 'two v1 changes in a row',
      type: 'user.changed',
      oldVersion: 1,
      history: [registered(twice)],
      old: [changedV1({ ...twice, role: 'accountant' }), changedV1({ ...twice, role: 'accountant', active: false })],
      native: [changedV2({ ...twice, role: 'accountant' }, 2), changedV2({ ...twice, role: 'accountant', active: false }, 3)],
    },
    {
      name: 'a rename by v1, then a deactivation by v2 (issue 24: a rebuild over the directory brought the popug back)',
      type: 'user.changed',
      oldVersion: 1,
      history: [registered(renamed)],
      old: [changedV1({ ...renamed, name: 'Polly Renamed' }), changedV2({ ...renamed, name: 'Polly Renamed', active: false }, 3)],
      native: [changedV2({ ...renamed, name: 'Polly Renamed' }, 2), changedV2({ ...renamed, name: 'Polly Renamed', active: false }, 3)],
    },
    {
      name: 'a v1 change logged after v2 changes (an old writer during a rolling upgrade)',
      type: 'user.changed',
      oldVersion: 1,
      history: [registered(late), changedV2({ ...late, name: 'Polly II' }, 2)],
      old: [changedV1({ ...late, name: 'Polly II', active: false }), changedV2({ ...late, name: 'Polly III', active: false }, 4)],
      native: [changedV2({ ...late, name: 'Polly II', active: false }, 3), changedV2({ ...late, name: 'Polly III', active: false }, 4)],
    },
  ];
}

const CASES = userCases();

/**
 * Appends `events` to the master log as auth would have logged them, with every user of
 * the case under fresh ids (the log is append-only, and a user's revisions come from the
 * user's events in it). Returns the version before them and how to map the ids back.
 */
async function logged(events: readonly LoggedEvent[]): Promise<{ after: string; originalIds: (text: string) => string }> {
  const fresh = new Map<string, string>();
  const renamed = events.map((event) => {
    const id = String(event.payload.id);
    if (!fresh.has(id)) fresh.set(id, randomUUID());
    return { ...event, payload: { ...event.payload, id: fresh.get(id) } };
  });
  const em = master.em.fork();
  const [head] = await em.execute<{ version: string }[]>('select coalesce(max(version), 0)::text as version from change_log');
  const after = head?.version ?? '0';
  await em.execute(
    `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
     select ?::bigint + e.n, 'auth', ?::bigint + e.n, gen_random_uuid(), e.event->>'type', (e.event->>'schema_version')::int, e.event->'payload',
            '2026-11-30T12:00:00Z'
       from jsonb_array_elements(?::jsonb) with ordinality as e(event, n)`,
    [after, after, JSON.stringify(renamed.map((event) => ({ type: event.type, schema_version: event.schemaVersion, payload: event.payload })))],
  );
  const back = [...fresh].map(([original, copy]) => [copy, original] as const);
  return { after, originalIds: (text) => back.reduce((result, [copy, original]) => result.split(copy).join(original), text) };
}

/** Reads the log after `after` in slices of `size` as the replicator does, applying each. */
async function applyFromLog(em: EntityManager, log: EntityManager, replica: ReplicaDefinition, after: string, size: number): Promise<void> {
  for (let from = after; ; ) {
    const slice = await readSlice(log, replica, from, size, undefined);
    if (slice.events.length === 0) return;
    await replica.apply(em, slice.events, { BUSINESS_TZ: env.BUSINESS_TZ });
    from = slice.watermark;
  }
}

/**
 * The replica's comparable state after applying `events` through the master log, in
 * batches of `size`: from an empty directory, or — `rebuild` — applied live first, then
 * rebuilt over the directory that left (a rebuild keeps users), as `replica:rebuild` does.
 */
async function stateAfter(replica: ReplicaDefinition, events: readonly LoggedEvent[], size: number, rebuild: boolean): Promise<unknown> {
  const orm = opened.get(replica.name);
  if (!orm) throw new Error(`${replica.name} is not open`);
  const { after, originalIds } = await logged(events);
  // Forked outside the replica's transaction, whose context a fork inside would pick up.
  const log = master.em.fork();
  const rows = await orm.em.fork().transactional(async (em) => {
    await replica.reset(em);
    await em.execute('delete from users');
    await applyFromLog(em, log, replica, after, size);
    if (rebuild) {
      await replica.reset(em);
      await applyFromLog(em, log, replica, after, size);
    }
    const state: unknown[] = [];
    for (const query of replica.comparableState) state.push(await em.execute(query));
    return state;
  });
  return JSON.parse(originalIds(JSON.stringify(rows))) as unknown;
}

test('every old version of every event type has upgrade cases', () => {
  const oldVersions = Object.entries(EVENT_SCHEMAS).flatMap(([type, definition]) =>
    Object.keys(definition.versions)
      .map(Number)
      .filter((version) => version < definition.latest)
      .map((version) => `${type} v${version}`),
  );
  expect(oldVersions.length).toBeGreaterThan(0);
  expect([...new Set(CASES.map((upgrade) => `${upgrade.type} v${upgrade.oldVersion}`))].sort()).toEqual(oldVersions.sort());
});

describe.each(REPLICAS.map((replica) => [replica.name, replica] as const))('%s applies an upgraded event as its native equivalent', (_name, replica) => {
  test.each(CASES.map((upgrade) => [upgrade.name, upgrade] as const))('%s', async (_case, upgrade) => {
    const native = await stateAfter(replica, [...upgrade.history, ...upgrade.native], 1000, false);
    // The case is about something: the change is visible in the replica's state.
    expect(native).not.toEqual(await stateAfter(replica, upgrade.history, 1000, false));
    for (const size of [1, 1000]) {
      for (const rebuild of [false, true]) {
        const upgraded = await stateAfter(replica, [...upgrade.history, ...upgrade.old], size, rebuild);
        expect({ size, rebuild, upgraded }).toEqual({ size, rebuild, upgraded: native });
      }
    }
  });
});
