import { Queue, UnrecoverableError, Worker, type Job, type JobsOptions, type Processor, type RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Env } from './env';
import type { Logger } from './logger';
import { createRedis, queueOptions, type QueueName } from './queues';

/** A repeating job, kept in Redis by a BullMQ job scheduler. */
export interface QueueSchedule {
  id: string;
  repeat: Omit<RepeatOptions, 'key'>;
  job: { name: string; opts?: JobsOptions };
}

export interface QueueWorkerSpec<Data, Result> {
  queue: QueueName;
  /** What the log calls one job in this queue ("mail", "payout run", "replication pass"). */
  jobNoun: string;
  processor: Processor<Data, Result>;
  /** Jobs run at once by this process; 1 (BullMQ's default) unless said otherwise. */
  concurrency?: number;
  /** The producer connection the caller's own queues use; needed for `schedule`, disconnected on close. */
  producer?: Redis;
  schedule?: QueueSchedule;
  /** Fields of a failed job worth logging beside its id (never the whole job data). */
  describeJob?: (job: Job<Data, Result>) => Record<string, unknown>;
  /** Releases what the processor uses (transport, ORM, other queues), after the worker has stopped. */
  release?: () => Promise<void> | void;
}

export interface QueueWorker<Data, Result> {
  worker: Worker<Data, Result>;
  /** Present when the spec has a schedule: the queue it was upserted on. */
  queue?: Queue;
  /** Settles once the schedule was first upserted (or its failure logged): a caller may wait for it. */
  scheduled: Promise<void>;
  /** Lets jobs in flight finish, then releases everything; safe to call twice. */
  close(): Promise<void>;
}

/**
 * The wiring every worker of this deployment shares: its own blocking Redis connection,
 * a scheduler upserted at start and again whenever Redis comes back (Redis here may keep
 * nothing across a restart), a listener on `failed` that tells a final failure from one
 * that will be retried, one on `error` (without it Node treats a Redis hiccup as unhandled),
 * and an idempotent graceful close. The job options (attempts, backoff, jobId) stay with
 * the caller: they are what differs between workers.
 */
export function createQueueWorker<Data, Result>(env: Env, logger: Logger, spec: QueueWorkerSpec<Data, Result>): QueueWorker<Data, Result> {
  const connection = createRedis(env, 'worker');
  const { queue, scheduled } = spec.schedule ? startSchedule(env, logger, spec) : { queue: undefined, scheduled: Promise.resolve() };
  const worker = new Worker<Data, Result>(spec.queue, spec.processor, { ...queueOptions(env, connection), concurrency: spec.concurrency ?? 1 });
  worker.on('failed', (job, error) => logFailure(logger, spec, job, error));
  worker.on('error', (error) => logger.error({ err: error, queue: spec.queue }, 'worker error'));

  let closing: Promise<void> | undefined;
  const close = async () => {
    try {
      await worker.close();
    } finally {
      await queue?.close();
      await spec.release?.();
      // The worker closes only the connections it made itself, not the ones it was given.
      await connection.quit().catch(() => connection.disconnect());
      spec.producer?.disconnect();
    }
  };
  return { worker, queue, scheduled, close: () => (closing ??= close()) };
}

function startSchedule<Data, Result>(env: Env, logger: Logger, spec: QueueWorkerSpec<Data, Result>): { queue: Queue; scheduled: Promise<void> } {
  const { producer, schedule } = spec;
  if (!producer || !schedule) throw new Error(`${spec.queue}: a schedule needs the producer connection`);
  const queue = new Queue(spec.queue, queueOptions(env, producer));
  queue.on('error', (error) => logger.warn({ err: error, queue: spec.queue }, 'queue: Redis unavailable'));
  const upsert = () =>
    queue
      .upsertJobScheduler(schedule.id, schedule.repeat, schedule.job)
      .catch((error: unknown) => logger.warn({ err: error, scheduler: schedule.id }, 'scheduler not set; retried on reconnect'));
  const scheduled = upsert().then(() => void producer.on('ready', () => void upsert()));
  return { queue, scheduled };
}

function logFailure<Data, Result>(logger: Logger, spec: QueueWorkerSpec<Data, Result>, job: Job<Data, Result> | undefined, error: Error): void {
  if (!job) {
    logger.error({ err: error }, `${spec.jobNoun} failed`);
    return;
  }
  const attempts = job.opts.attempts ?? 1;
  const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts;
  const fields = { jobId: job.id, attemptsMade: job.attemptsMade, attempts, ...spec.describeJob?.(job), err: error };
  if (final) logger.error(fields, `${spec.jobNoun} failed; kept in the failed set`);
  else logger.warn(fields, `${spec.jobNoun} failed; will retry`);
}
