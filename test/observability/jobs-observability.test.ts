import { Queue } from 'bullmq';
import { Lifecycle } from '../../lib/lifecycle';
import { createLogger } from '../../lib/logger';
import { SEND_MAIL } from '../../lib/mail';
import { createRedis, queueOptions, QUEUES } from '../../lib/queues';
import { isolateTestFile } from '../../testing/isolation';
import { sampleValue, samplesOf, scrapeMetrics } from '../../testing/metrics';
import type { TestSystem } from '../../testing/system';
import { waitFor } from '../../testing/wait';
import { startJobs } from '../../jobs/jobs';
import { QUEUE_BOARD_COOKIE, QUEUE_BOARD_PATH } from '../../jobs/queue-board';
import { startSystem } from '../system';

const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '250' });
const lifecycle = new Lifecycle(createLogger('test'));
let system: TestSystem;
let jobsUrl: string;

beforeAll(async () => {
  system = await startSystem(env);
  // Port 0: free ports; the rest of the environment points at this file's system. /metrics and the board are on the internal port.
  const { internalPort } = await startJobs({ ...system.env, JOBS_PORT: 0, JOBS_INTERNAL_PORT: 0 }, lifecycle);
  jobsUrl = `http://127.0.0.1:${internalPort}`;
}, 60_000);
afterAll(async () => {
  await lifecycle.stop();
  await system?.close();
});

describe('jobs worker /metrics', () => {
  it('shows replication lag per replica and queue depths per queue and state', async () => {
    const text = await waitFor(
      async () => {
        const scraped = await scrapeMetrics(jobsUrl);
        return samplesOf(scraped, 'popug_replication_lag_events', { service: 'jobs' }).length >= 3 ? scraped : undefined;
      },
      15_000,
      'replication lag of every replica',
    );
    const replicas = samplesOf(text, 'popug_replication_lag_events').map((sample) => sample.labels.replica).sort();
    expect(replicas).toEqual(['accounting', 'analytics', 'tracker']);
    for (const replica of replicas) {
      expect(sampleValue(text, 'popug_replication_lag_seconds', { replica: String(replica) })).toBeGreaterThanOrEqual(0);
      expect(sampleValue(text, 'popug_replication_consecutive_failures', { replica: String(replica) })).toBe(0);
    }
    for (const queue of [QUEUES.mail, QUEUES.replication]) {
      for (const state of ['waiting', 'active', 'delayed', 'failed']) {
        expect(sampleValue(text, 'popug_queue_jobs', { service: 'jobs', queue, state })).toBeGreaterThanOrEqual(0);
      }
    }
    expect(sampleValue(text, 'popug_process_resident_memory_bytes', { service: 'jobs' })).toBeGreaterThan(0);
  });

  it('counts a failing mail job and shows it in the failed depth', async () => {
    const producer = createRedis(env, 'producer');
    const mail = new Queue(QUEUES.mail, queueOptions(env, producer));
    try {
      const before = sampleValue(await scrapeMetrics(jobsUrl), 'popug_job_failures_total', { queue: 'mail' }) ?? 0;
      // Data the notifier refuses for good: one attempt, one failure.
      await mail.add(SEND_MAIL, { to: 'not-an-address', subject: '', text: '' }, { jobId: `broken-${Date.now()}` });
      const text = await waitFor(
        async () => {
          const scraped = await scrapeMetrics(jobsUrl);
          return sampleValue(scraped, 'popug_job_failures_total', { queue: 'mail' }) === before + 1 ? scraped : undefined;
        },
        10_000,
        'the mail failure counted',
      );
      expect(sampleValue(text, 'popug_queue_jobs', { queue: 'mail', state: 'failed' })).toBeGreaterThanOrEqual(1);
    } finally {
      await mail.close();
      producer.disconnect();
    }
  });
});

describe('queue board', () => {
  const board = (path: string, init: RequestInit = {}) => fetch(`${jobsUrl}${QUEUE_BOARD_PATH}${path}`, { redirect: 'manual', ...init });
  const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

  async function workerToken(): Promise<string> {
    const email = `board-worker-${Date.now()}@popug.test`;
    const registered = await system.request('mutation($e: String!) { register(email: $e, name: "Board Worker", password: "long-enough-pw") { id } }', { e: email });
    expect(registered.errors).toBeUndefined();
    return system.login(email, 'long-enough-pw');
  }

  it('refuses anonymous callers with 401 and a bad token too', async () => {
    expect((await board('/')).status).toBe(401);
    expect((await board('/api/queues')).status).toBe(401);
    expect((await board('/api/queues', bearer('not-a-token'))).status).toBe(401);
    expect((await board('/api/queues', { headers: { cookie: `${QUEUE_BOARD_COOKIE}=forged` } })).status).toBe(401);
  });

  it('answers a malformed or oversized sign-in body with a JSON error, never a stack trace', async () => {
    const malformed = await board('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"token": ' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ errors: [{ message: 'The request body is not valid JSON', extensions: { code: 'BAD_REQUEST' } }] });
    const huge = await board('/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: 'x'.repeat(20_000) }) });
    expect(huge.status).toBe(413);
    expect(await huge.text()).not.toMatch(/at .*\.(js|ts):\d+/);
  });

  it('refuses a signed-in worker with 403, by header and at sign-in', async () => {
    const token = await workerToken();
    expect((await board('/', bearer(token))).status).toBe(403);
    const login = await board('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    expect(login.status).toBe(403);
    expect(login.headers.get('set-cookie')).toBeNull();
  });

  it('lets an admin in by bearer token and by the sign-in cookie, with assets served locally', async () => {
    const token = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    const page = await board('/', bearer(token));
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const script = /src="(static\/js\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    expect((await board(`/${String(script)}`, bearer(token))).status).toBe(200);

    const login = await board('/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token }) });
    expect(login.status).toBe(303);
    const cookie = login.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    const api = await board('/api/queues', { headers: { cookie: cookie.split(';')[0] ?? '' } });
    expect(api.status).toBe(200);
    const body = (await api.json()) as { queues: { name: string }[] };
    expect(body.queues.map((queue) => queue.name).sort()).toEqual(['mail', 'replication']);
  });
});
