import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Lifecycle } from '@popug/lib/lifecycle';
import { createLogger } from '@popug/lib/logger';
import { SEND_MAIL } from '@popug/lib/mail';
import { createRedis, queueOptions, QUEUES } from '@popug/lib/queues';
import { dataOf } from '@popug/testing/stack';
import { startJobs } from '../../jobs/jobs';
import { QUEUE_BOARD_PATH } from '../../jobs/queue-board';
import { PASSWORD, useHostileBed } from './hostile-bed';

/**
 * The queue board by least privilege: viewing needs auth's `queue:view` (not `user:manage`),
 * job data, return values and failure reasons only for holders of auth's
 * `queue:view_data` (auth decides both; the board reads no service's tables), and no action at all (add, retry, promote, clean, empty, remove a
 * scheduler…): the board is read-only for everyone, the payout queue included. Its checks hold
 * however a path is spelled (case, percent-encoding, doubled slashes), and Redis's own
 * statistics (version, kernel, memory) are shown to nobody.
 */

const bed = useHostileBed();
const lifecycle = new Lifecycle(createLogger('test'));
let jobsUrl: string;
let producer: ReturnType<typeof createRedis>;
let mail: Queue;
let payout: Queue;
const SECRET_EMAIL = `payee-${randomUUID().slice(0, 8)}@popug.test`;
const RESET_LINK = `http://popug.test/reset-password#token=${randomUUID()}`;

beforeAll(async () => {
  // The board is on the internal port.
  const { internalPort } = await startJobs({ ...bed.system.env, JOBS_PORT: 0, JOBS_INTERNAL_PORT: 0 }, lifecycle);
  jobsUrl = `http://127.0.0.1:${internalPort}`;
  producer = createRedis(bed.env, 'producer');
  mail = new Queue(QUEUES.mail, queueOptions(bed.env, producer));
  payout = new Queue(QUEUES.payout, queueOptions(bed.env, producer));
  // A mail with personal data and money in it, delayed so it stays on the board.
  const job = await mail.add(SEND_MAIL, { to: SECRET_EMAIL, subject: 'Your payout', text: 'You were paid 1234.56' }, { jobId: `board-${randomUUID()}`, delay: 3_600_000 });
  // What a job log may hold: who a mail went to.
  await job.log(`queued for ${SECRET_EMAIL}`);
  // A password-reset mail: its link signs in as its owner.
  await mail.add(SEND_MAIL, { to: SECRET_EMAIL, subject: 'Reset your password', text: `Open ${RESET_LINK}`, secret: true }, { jobId: `board-${randomUUID()}`, delay: 3_600_000 });
}, 60_000);

afterAll(async () => {
  await mail?.close();
  await payout?.close();
  producer?.disconnect();
  await lifecycle.stop();
});

const board = (path: string, token: string, init: RequestInit = {}) =>
  fetch(`${jobsUrl}${QUEUE_BOARD_PATH}${path}`, { redirect: 'manual', ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers } });

/** A user whose custom role holds exactly these permissions in auth and accounting. */
async function userHolding(auth: string[], accounting: string[] = []): Promise<string> {
  const role = `r${randomUUID().slice(0, 8)}`;
  const admin = bed.adminToken;
  dataOf(await bed.system.request('mutation ($role: String!) { createRole(name: $role) }', { role }, admin));
  for (const permission of auth) {
    dataOf(await bed.system.request('mutation ($role: String!, $p: String!) { setAuthPermission(role: $role, permission: $p, granted: true) { role } }', { role, p: permission }, admin));
  }
  for (const permission of accounting) {
    dataOf(await bed.system.request('mutation ($role: String!, $p: String!) { setAccountingPermission(role: $role, permission: $p, granted: true) { role } }', { role, p: permission }, admin));
  }
  const user = await bed.register('board');
  dataOf(await bed.system.request('mutation ($id: ID!, $role: String!) { setUserRole(userId: $id, role: $role) { id } }', { id: user.id, role }, admin));
  return bed.system.login(user.email, PASSWORD);
}

const mailJobs = (token: string) => board('/api/queues?activeQueue=mail&status=delayed&page=1&jobsPerPage=50', token);

async function payoutState() {
  return { counts: await payout.getJobCounts(), schedulers: (await payout.getJobSchedulers()).map((scheduler) => scheduler.key).sort() };
}

describe('who may look', () => {
  it('refuses a user manager who lacks queue:view (403)', async () => {
    const token = await userHolding(['user:manage']);
    expect((await board('/api/queues', token)).status).toBe(403);
  });

  it('shows a queue:view holder the queues, with job data, results and failure reasons hidden', async () => {
    const token = await userHolding(['queue:view']);
    const answer = await mailJobs(token);
    expect(answer.status).toBe(200);
    const text = await answer.text();
    expect(text).toContain('"name":"mail"');
    expect(text).toContain(SEND_MAIL);
    expect(text).not.toContain(SECRET_EMAIL);
    expect(text).not.toContain('1234.56');
  });

  it('refuses a queue:view holder the job logs', async () => {
    const token = await userHolding(['queue:view']);
    const [job] = await mail.getDelayed();
    expect((await board(`/api/queues/mail/${String(job?.id)}/logs`, token)).status).toBe(403);
  });

  /** Each spelling of a job's log path refused to a queue:view holder (403, nothing leaked, nothing changed); the queue:view_data holder still reads it. */
  async function expectLogsRefused(spell: (id: string) => string[]): Promise<void> {
    const token = await userHolding(['queue:view']);
    const [job] = await mail.getDelayed();
    const id = String(job?.id);
    await bed.expectNothingChanged(async () => {
      for (const path of spell(id)) {
        const answer = await board(path, token);
        const text = await answer.text();
        expect({ path, status: answer.status, code: (JSON.parse(text) as { code?: string }).code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
        expect(text).not.toContain(SECRET_EMAIL);
      }
    }, { replicating: true });
    const reader = await userHolding(['queue:view', 'queue:view_data']);
    expect(await (await board(`/api/queues/mail/${id}/logs`, reader)).text()).toContain(SECRET_EMAIL);
  }

  it('refuses a queue:view holder the job logs whatever the letter case (Express routes ignore it)', async () => {
    await expectLogsRefused((id) => [`/api/queues/mail/${id}/LOGS`, `/api/queues/mail/${id}/Logs/`, `/API/Queues/mail/${id}/logs`]);
  });

  it('refuses a queue:view holder the job logs percent-encoded or with doubled slashes', async () => {
    await expectLogsRefused((id) => [`/api/queues/mail/${id}/%6Cogs`, `/api/queues/mail/${id}%2Flogs`, `/api/queues/mail/${id}%2FLOGS`, `/api/queues/mail//${id}//logs`]);
  });

  it('shows Redis\'s statistics (version, kernel, memory) to nobody, the admin included, however the path is spelled', async () => {
    const viewer = await userHolding(['queue:view']);
    await bed.expectNothingChanged(async () => {
      for (const token of [viewer, bed.adminToken]) {
        for (const path of ['/api/redis/stats', '/API/Redis/Stats/', '/api/redis%2Fstats', '/api//redis/stats']) {
          const answer = await board(path, token);
          const text = await answer.text();
          expect({ path, status: answer.status, code: (JSON.parse(text) as { code?: string }).code }).toEqual({ path, status: 403, code: 'FORBIDDEN' });
          expect(text).not.toMatch(/version|memory|uptime|linux|"os"/i);
        }
      }
    }, { replicating: true });
    // The board itself still opens.
    expect((await board('/api/queues', viewer)).status).toBe(200);
  });

  it('shows job data to a holder of auth\'s queue:view_data', async () => {
    const token = await userHolding(['queue:view', 'queue:view_data']);
    const text = await (await mailJobs(token)).text();
    expect(text).toContain(SECRET_EMAIL);
  });

  it('shows a password-reset mail\'s link to nobody, not even a holder of queue:view_data', async () => {
    const token = await userHolding(['queue:view', 'queue:view_data']);
    const text = await (await mailJobs(token)).text();
    expect(text).toContain('You were paid 1234.56');
    expect(text).not.toContain(RESET_LINK);
  });

  it('hides job data from a holder of accounting\'s account:view_all alone: auth decides', async () => {
    const token = await userHolding(['queue:view'], ['account:view_all']);
    const text = await (await mailJobs(token)).text();
    expect(text).not.toContain(SECRET_EMAIL);
  });
});

const ACTIONS: [string, string, string, unknown][] = [
  ['add a payout job', 'POST', '/api/queues/payout/add', { name: 'run-payout', data: { day: '2999-01-01' } }],
  ['retry failed payouts', 'PUT', '/api/queues/payout/retry/failed', undefined],
  ['promote delayed payouts', 'PUT', '/api/queues/payout/promote', undefined],
  ['clean completed payouts', 'PUT', '/api/queues/payout/clean/completed', undefined],
  ['empty the payout queue', 'PUT', '/api/queues/payout/empty', undefined],
  ['obliterate the payout queue', 'PUT', '/api/queues/payout/obliterate', undefined],
  ['remove the payout scheduler', 'PUT', '/api/queues/payout/job-schedulers/payout/remove', undefined],
  ['pause every queue', 'PUT', '/api/queues/pause', undefined],
  ['change a mail\'s data', 'PATCH', '/api/queues/mail/1/update-data', { data: { to: 'attacker@evil.test' } }],
];

describe('the board is read-only, even for the admin', () => {
  it.each(ACTIONS)('refuses to %s (405), changing nothing', async (_label, method, path, body) => {
    const before = await payoutState();
    const answer = await board(path, bed.adminToken, { method, body: body === undefined ? undefined : JSON.stringify(body) });
    expect(answer.status).toBe(405);
    expect(await payoutState()).toEqual(before);
    expect(await mail.isPaused()).toBe(false);
  });
});
