import { randomBytes } from 'node:crypto';
import { Pool } from 'pg';
import { Pool as HttpPool } from 'undici';
import type { Redis } from 'ioredis';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { createMailQueue, enqueueMail, type MailQueue } from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import type { TestSystem } from '@popug/testing/system';
import { waitFor } from '@popug/testing/wait';
import { startSystem } from '../system';
import { createTaskOnce } from './fixtures/create-task-call';
import { startGatewayProcess, startJobsProcess, type ServiceProcess } from './fixtures/jobs-process';
import { hireStaff, type Popug } from './fixtures/popugs';
import { replicateUntilCaughtUp } from './invariants';

/**
 * SIGTERM under load (docs/operations.md "Operations"): the gateway stops taking connections,
 * answers every request it accepted and exits 0; the jobs worker finishes the mails it was
 * sending, leaves the rest queued and exits 0, and a new worker sends each mail once.
 * Clients keep their connections alive, as load balancers and scrapers do: that is what
 * held the old shutdown until its deadline killed the process in the middle of requests.
 */
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200' });
const CLIENTS = 8;
let system: TestSystem;
let manager: Popug;
const running: ServiceProcess[] = [];

beforeAll(async () => {
  system = await startSystem(env);
  ({ manager } = await hireStaff(system, env, 1));
  // The tracker must know its receivers: an in-process replicator brings them, then goes.
  await replicateUntilCaughtUp(env);
}, 90_000);
afterAll(async () => {
  for (const service of running) await service.kill();
  await system?.close();
});

type Outcome = { kind: 'answered'; afterSignal: boolean; taskId: string } | { kind: 'refused'; code: string } | { kind: 'failed'; detail: string };

/** Connection-level errors of a request the server never read: the connection was refused or closed before it. */
const NOT_ACCEPTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

/** A dropped call whose request the server never read is refused; any other drop is a failure. */
async function createTaskUnderSignal(http: HttpPool, title: string, signalled: () => boolean): Promise<Outcome> {
  const call = await createTaskOnce(http, manager.token, { title, description: 'made under SIGTERM' }, signalled);
  if (call.kind !== 'dropped') return call;
  return NOT_ACCEPTED.has(call.code) ? { kind: 'refused', code: call.code } : { kind: 'failed', detail: call.detail };
}

describe('SIGTERM under load', () => {
  it('the gateway answers every request it accepted, stops taking new ones and exits 0', async () => {
    const gateway = await startGatewayProcess({
      ...process.env,
      AUTH_URL: system.env.AUTH_URL,
      TRACKER_URL: system.env.TRACKER_URL,
      ACCOUNTING_URL: system.env.ACCOUNTING_URL,
      ANALYTICS_URL: system.env.ANALYTICS_URL,
    });
    running.push(gateway);
    const titlePrefix = `drain-${randomBytes(4).toString('hex')}`;
    const http = new HttpPool(gateway.origin, { connections: CLIENTS, pipelining: 1, keepAliveTimeout: 60_000 });
    const outcomes: Outcome[] = [];
    let signalSent = false;
    const clients = Array.from({ length: CLIENTS }, async (_, client) => {
      for (let n = 0; n < 5000; n += 1) {
        const outcome = await createTaskUnderSignal(http, `${titlePrefix}-${client}-${n}`, () => signalSent);
        outcomes.push(outcome);
        if (outcome.kind !== 'answered' && (signalSent || outcome.kind === 'failed')) return;
      }
    });
    await waitFor(async () => (outcomes.length >= 40 ? true : undefined), 30_000, 'load through the gateway');
    signalSent = true;
    gateway.run.child.kill('SIGTERM');
    const exitCode = await gateway.run.exited;
    await Promise.all(clients);
    await http.close();

    expect(outcomes.filter((outcome) => outcome.kind === 'failed')).toEqual([]);
    expect(exitCode).toBe(0);
    // Requests in flight when the signal came were answered, not dropped.
    expect(outcomes.some((outcome) => outcome.kind === 'answered' && outcome.afterSignal)).toBe(true);
    // Every task the tracker made is one a client was told about: no accepted request lost its answer.
    const answered = outcomes.flatMap((outcome) => (outcome.kind === 'answered' ? [outcome.taskId] : [])).sort();
    const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
    try {
      const { rows } = await tracker.query<{ id: string }>('select id from tasks where title like $1 order by id', [`${titlePrefix}-%`]);
      expect(rows.map((row) => String(row.id)).sort()).toEqual(answered);
    } finally {
      await tracker.end();
    }
  }, 90_000);

  describe('the jobs worker', () => {
    const MAILS = 60;
    let smtp: SmtpListener;
    let redis: Redis;
    let mailQueue: MailQueue;

    beforeAll(async () => {
      smtp = await startSmtpListener({ acceptDelayMs: 100 });
      redis = createRedis(env, 'producer');
      mailQueue = createMailQueue(env, redis);
    });
    afterAll(async () => {
      await mailQueue?.close();
      redis?.disconnect();
      await smtp?.close();
    });

    it('finishes the mails it is sending, leaves the rest queued and exits 0; a new worker sends each mail once', async () => {
      const batch = randomBytes(4).toString('hex');
      for (let n = 0; n < MAILS; n += 1) {
        await enqueueMail(mailQueue, { to: `popug${n}@popug.test`, subject: `drain ${batch} ${n}`, text: 'hello' }, `drain:${batch}:${n}`);
      }
      const jobsEnv = { ...process.env, SMTP_URL: smtp.url };
      const first = await startJobsProcess(jobsEnv);
      running.push(first);
      // A scraper on a kept-alive connection, as Prometheus keeps one.
      const scraper = new HttpPool(first.internalOrigin, { connections: 1, keepAliveTimeout: 60_000 });
      let scraping = true;
      const scraping$ = (async () => {
        while (scraping) {
          await scraper
            .request({ path: '/health', method: 'GET' })
            .then((response) => response.body.dump())
            .catch(() => undefined);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })();
      const ours = (subject: string | undefined) => subject?.startsWith(`drain ${batch} `) === true;
      await smtp.waitForMails((mail) => ours(mail.subject), 10, 30_000);
      first.run.child.kill('SIGTERM');
      const exitCode = await first.run.exited;
      scraping = false;
      await scraping$;
      await scraper.close();

      expect(exitCode).toBe(0);
      const counts = await mailQueue.getJobCounts('active', 'failed', 'delayed', 'waiting');
      expect({ active: counts.active, failed: counts.failed, delayed: counts.delayed }).toEqual({ active: 0, failed: 0, delayed: 0 });
      expect(counts.waiting).toBeGreaterThan(0);

      const second = await startJobsProcess(jobsEnv);
      running.push(second);
      await smtp.waitForMails((mail) => ours(mail.subject), MAILS, 60_000);
      await second.stop();
      const subjects = smtp.received.filter((mail) => ours(mail.subject)).map((mail) => mail.subject ?? '');
      expect(new Set(subjects).size).toBe(subjects.length);
      expect(subjects).toHaveLength(MAILS);
    }, 120_000);
  });
});
