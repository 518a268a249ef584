import { Queue, UnrecoverableError } from 'bullmq';
import pino from 'pino';
import { createRedis, queueOptions, QUEUES } from '../queues';
import { createQueueWorker } from '../queue-worker';
import { isolateTestFile } from '../../testing/isolation';
import { waitFor } from '../../testing/wait';

const env = isolateTestFile();

/** A logger that keeps what it was told, so the test reads the failure lines. */
function recordingLogger() {
  const lines: { level: number; msg: string; attemptsMade?: number; key?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

test('a scheduled worker: the scheduler is upserted, jobs run, failures are told final or retried, close is idempotent', async () => {
  const { logger, lines } = recordingLogger();
  const producer = createRedis(env, 'producer');
  const ran: string[] = [];
  let released = 0;
  const running = createQueueWorker<{ key?: string; fail?: 'retry' | 'final' }, string>(env, logger, {
    queue: QUEUES.payout,
    jobNoun: 'test run',
    producer,
    schedule: { id: 'test-every-hour', repeat: { every: 3_600_000 }, job: { name: 'tick', opts: { removeOnComplete: true } } },
    describeJob: (job) => ({ key: job.data.key }),
    processor: async (job) => {
      ran.push(job.name);
      if (job.data.fail === 'final') throw new UnrecoverableError('refused for good');
      if (job.data.fail === 'retry') throw new Error('try again');
      return 'ok';
    },
    release: () => void released++,
  });
  await running.scheduled;
  const schedulers = await running.queue?.getJobSchedulers();
  expect(schedulers?.map((scheduler) => [scheduler.key, scheduler.every])).toEqual([['test-every-hour', 3_600_000]]);
  await waitFor(async () => (ran.includes('tick') ? true : undefined), 10_000, 'the scheduled job');

  const adderRedis = createRedis(env, 'producer');
  const adder = new Queue(QUEUES.payout, queueOptions(env, adderRedis));
  await adder.add('retried', { key: 'r', fail: 'retry' }, { attempts: 2 });
  await adder.add('refused', { key: 'f', fail: 'final' }, { attempts: 5 });
  const failures = () => lines.filter((line) => line.msg.startsWith('test run failed'));
  await waitFor(async () => (failures().length === 3 ? true : undefined), 10_000, 'three failure lines');
  expect(failures().map(({ msg, key, attemptsMade }) => ({ msg, key, attemptsMade })).sort((a, b) => a.msg.localeCompare(b.msg) || (a.attemptsMade ?? 0) - (b.attemptsMade ?? 0))).toEqual([
    { msg: 'test run failed; kept in the failed set', key: 'f', attemptsMade: 1 },
    { msg: 'test run failed; kept in the failed set', key: 'r', attemptsMade: 2 },
    { msg: 'test run failed; will retry', key: 'r', attemptsMade: 1 },
  ]);

  await Promise.all([running.close(), running.close()]);
  expect(released).toBe(1);
  // The producer it was given is disconnected too (ioredis reports it once the socket has closed).
  await waitFor(async () => (producer.status === 'end' ? true : undefined), 10_000, 'the producer disconnected');
  await adder.obliterate({ force: true });
  await adder.close();
  adderRedis.disconnect();
});
