import { randomUUID } from 'node:crypto';
import { EVENT_SCHEMAS, openDatabase, type ChangeEvent, type EventType, type MikroORM, type ReplicaDefinition } from '@popug/lib';
import { isolateTestFile } from '@popug/testing/isolation';
import { REPLICAS } from '../topology';
import { prepareDatabases } from './fixtures/databases';

/**
 * An event written in an old schema version must leave every replica exactly as the
 * same change written natively in the latest version would. Each old version of each
 * event type has cases here (the first test fails when a version has none): a history of
 * native events, then the old event; and the same history, then its native equivalent.
 * Both run through each replica's own handler, one event per batch and all in one batch,
 * and the replicas' comparable state must be equal.
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

beforeAll(async () => {
  await prepareDatabases(env);
  for (const replica of REPLICAS) opened.set(replica.name, await openDatabase(env, { ...replica.database, poolMax: 2 }));
});
afterAll(async () => {
  for (const orm of opened.values()) await orm.close();
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

function asLog(events: readonly LoggedEvent[]): ChangeEvent[] {
  return events.map((event, index) => ({
    version: String(index + 1),
    source: event.type.startsWith('user.') ? 'auth' : 'tracker',
    type: event.type,
    schemaVersion: event.schemaVersion,
    payload: event.payload,
    occurredAt: new Date('2026-11-30T12:00:00Z'),
  }));
}

/** The replica's comparable state after applying `events` from empty, in the batches given. */
async function stateAfter(replica: ReplicaDefinition, events: readonly LoggedEvent[], oneBatch: boolean): Promise<unknown[][]> {
  const orm = opened.get(replica.name);
  if (!orm) throw new Error(`${replica.name} is not open`);
  const log = asLog(events);
  await orm.em.fork().transactional(async (em) => {
    await replica.reset(em);
    // A rebuild keeps the directory (users are rewritten in place); these cases start from none.
    await em.execute('delete from users');
    const batches = oneBatch ? [log] : log.map((event) => [event]);
    for (const batch of batches) await replica.apply(em, batch, { BUSINESS_TZ: env.BUSINESS_TZ });
  });
  const em = orm.em.fork();
  return Promise.all(replica.comparableState.map((query) => em.execute(query)));
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
    for (const oneBatch of [false, true]) {
      const native = await stateAfter(replica, [...upgrade.history, ...upgrade.native], oneBatch);
      const upgraded = await stateAfter(replica, [...upgrade.history, ...upgrade.old], oneBatch);
      expect(upgraded).toEqual(native);
      // The case is about something: the change is visible in the replica's state.
      expect(native).not.toEqual(await stateAfter(replica, upgrade.history, oneBatch));
    }
  });
});
