import { createLogger } from '@popug/lib/logger';
import { PoisonEventError, type ChangeEvent, type ReplicaDefinition } from '@popug/lib/replication/replica';
import { isolateTestFile } from '@popug/testing/isolation';
import { trackerReplica } from '../../../subgraphs/tracker/replication';
import { applyBatch, HandlerFailure } from '../apply';
import { catchUp } from '../catch-up';
import { DatabaseHandles } from '../databases';
import { LogReader } from '../log-reader';
import { masterDatabase } from '../master/database';
import { watermarkOf } from './fixtures/databases';
import { useConnections } from './fixtures/connections';

const env = isolateTestFile();
const db = useConnections(env, ['master', 'tracker']);
const databases = new DatabaseHandles(env, createLogger('replicator'));

beforeEach(async () => {
  await db.master.query('truncate change_log');
  await db.tracker.query('update replication_watermark set version = 0 where id = 1');
});
afterAll(async () => {
  await databases.close();
});

/** Writes versions 1..count into the master log; `other` versions carry a type the replica does not read. */
async function writeLog(count: number, other: readonly number[] = []): Promise<void> {
  await db.master.query(
    `insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at)
     select v, 'auth', v, gen_random_uuid(), case when v = any($2::int[]) then 'task.created' else 'user.changed' end, 2, '{}'::jsonb, now()
       from generate_series(1, $1::int) as v`,
    [count, other],
  );
}

/**
 * A replica on the tracker database whose handler only records what it was given, and
 * fails (for a reason of data, SQLSTATE 22001) on any batch holding a version in `poison`.
 */
function recordingReplica(poison: readonly string[] = []): { replica: ReplicaDefinition; batches: string[][] } {
  const batches: string[][] = [];
  const replica: ReplicaDefinition = {
    ...trackerReplica,
    eventTypes: ['user.changed'],
    async apply(_em, events: readonly ChangeEvent[]) {
      const versions = events.map((event) => event.version);
      batches.push(versions);
      if (versions.some((version) => poison.includes(version))) throw Object.assign(new Error('value too long'), { code: '22001' });
    },
  };
  return { replica, batches };
}

async function run(replica: ReplicaDefinition, batchSize: number) {
  const orm = await databases.orm(trackerReplica.database);
  return catchUp(await databases.em(masterDatabase), () => orm.em.fork(), replica, env, batchSize);
}
const replicaEm = () => databases.orm(trackerReplica.database).then((orm) => orm.em.fork());

describe('applyBatch: one batch, one transaction', () => {
  test('applies the replica’s events in order and moves the watermark past the events it does not read', async () => {
    await writeLog(6, [2, 6]);
    const { replica, batches } = recordingReplica();
    const reader = new LogReader(await databases.em(masterDatabase), replica);
    expect(await applyBatch(await replicaEm(), replica, env, reader, 10)).toEqual({ applied: 4, watermark: '6' });
    expect(batches).toEqual([['1', '3', '4', '5']]);
    expect(await watermarkOf(db.tracker)).toBe(6n);
  });

  test('a handler that throws rolls the batch back and is reported with the batch’s events', async () => {
    await writeLog(5);
    const { replica } = recordingReplica(['4']);
    const reader = new LogReader(await databases.em(masterDatabase), replica);
    // The first batch (1-3) is fine; the second holds version 4.
    expect(await applyBatch(await replicaEm(), replica, env, reader, 3)).toEqual({ applied: 3, watermark: '3' });
    const second = await applyBatch(await replicaEm(), replica, env, reader, 3).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(HandlerFailure);
    expect((second as HandlerFailure).events.map((event) => event.version)).toEqual(['4', '5']);
    expect(await watermarkOf(db.tracker)).toBe(3n);
  });
});

describe('catchUp', () => {
  test('without failures: full batches to the head, then a short one', async () => {
    await writeLog(10);
    const { replica, batches } = recordingReplica();
    expect(await run(replica, 4)).toEqual({ applied: 10, watermark: '10' });
    expect(batches.map((batch) => batch.length)).toEqual([4, 4, 2]);
  });

  test('a poison inside a batch: halved until it is alone, everything before it applied, nothing after', async () => {
    await writeLog(20);
    const { replica, batches } = recordingReplica(['7']);
    const error = await run(replica, 8).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(PoisonEventError);
    expect(error).toMatchObject({ version: '7', message: 'event v7 cannot be applied: handler failed: value too long' });
    expect(await watermarkOf(db.tracker)).toBe(6n);
    // 1-8 fails; 1-4 applies; 5-8 fails; 5-6 applies; 7-8 fails; 7 alone fails; then up to the poison, nothing past it.
    expect(batches).toEqual([
      ['1', '2', '3', '4', '5', '6', '7', '8'],
      ['1', '2', '3', '4'],
      ['5', '6', '7', '8'],
      ['5', '6'],
      ['7', '8'],
      ['7'],
    ]);
  });

  test('two poisons: the earlier one is thrown, the replica stops right before it', async () => {
    await writeLog(12);
    const { replica } = recordingReplica(['9', '3']);
    await expect(run(replica, 4)).rejects.toMatchObject({ version: '3' });
    expect(await watermarkOf(db.tracker)).toBe(2n);
  });

  test('a failure of the moment ends the catch-up with that error; committed batches stay', async () => {
    await writeLog(9);
    const shutdown = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    const replica: ReplicaDefinition = {
      ...trackerReplica,
      eventTypes: ['user.changed'],
      async apply(_em, events) {
        if (events.some((event) => event.version === '6')) throw shutdown;
      },
    };
    await expect(run(replica, 3)).rejects.toBe(shutdown);
    expect(await watermarkOf(db.tracker)).toBe(3n);
  });
});
