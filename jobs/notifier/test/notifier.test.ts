import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { simpleParser } from 'mailparser';
import type { Env } from '@popug/lib/env';
import { createLogger } from '@popug/lib/logger';
import {
  SEND_MAIL,
  createMailQueue,
  enqueueMail,
  mailJobId,
  type MailJobData,
  type MailMessage,
  type MailQueue,
  type MailQueueOptions,
} from '@popug/lib/mail';
import { createRedis } from '@popug/lib/queues';
import { isolateTestFile } from '@popug/testing/isolation';
import { addresses, startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { startNotifier } from '../worker';

const baseEnv = isolateTestFile();
const logger = createLogger('notifier-test');

const payoutMail: MailMessage = {
  to: 'worker@popug.test',
  subject: 'Your payout for 2024-05-01',
  text: 'You earned 12.34 $ today.',
  html: '<p>You earned <b>12.34 $</b> today.</p>',
};

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

let testSeq = 0;

/** Each test gets its own queue prefix and mail folder, so leftovers never leak across tests. */
function startStack(options: { smtp?: SmtpListener; queue?: MailQueueOptions; onDelivered?: (key: string) => Promise<void> } = {}) {
  testSeq += 1;
  const env: Env = {
    ...baseEnv,
    QUEUE_PREFIX: `${baseEnv.QUEUE_PREFIX}-${testSeq}`,
    MAIL_DIR: join(baseEnv.MAIL_DIR, `t${testSeq}`),
    SMTP_URL: options.smtp?.url,
  };
  const producer: Redis = createRedis(env, 'producer');
  const queue = createMailQueue(env, producer, { attempts: 3, backoffDelayMs: 50, ...options.queue });
  const notifier = startNotifier(env, logger, options.onDelivered);
  cleanups.push(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await producer.quit();
  });
  cleanups.push(() => notifier.close());
  if (options.smtp) cleanups.push(options.smtp.close);
  return { env, queue, notifier };
}

/** Mail moves fast on loopback: look every 25 ms, for up to 10 s. */
const eventually = <T>(probe: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> =>
  waitFor(async () => probe(), 10_000, what, 25);

async function settled(queue: MailQueue, jobId: string, state: 'completed' | 'failed') {
  await eventually(async () => ((await queue.getJobState(jobId)) === state ? true : undefined), `job ${jobId} ${state}`);
  const job = await queue.getJob(jobId);
  if (!job) throw new Error(`job ${jobId} vanished`);
  return job;
}

/** Jobs that are still to run; zero means no further delivery can happen. */
async function pending(queue: MailQueue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

describe('notifier', () => {
  it('delivers a queued mail over SMTP with sender, recipient, subject and body', async () => {
    const smtp = await startSmtpListener();
    const { env, queue } = startStack({ smtp });

    const jobId = await enqueueMail(queue, payoutMail, 'payout:account-1:2024-05-01');

    const job = await settled(queue, jobId, 'completed');
    expect(job.returnvalue).toMatchObject({ via: 'smtp' });
    expect(smtp.received).toHaveLength(1);
    const [mail] = smtp.received;
    expect(addresses(mail?.from)).toEqual([env.MAIL_FROM]);
    expect(addresses(mail?.to)).toEqual([payoutMail.to]);
    expect(mail?.subject).toBe(payoutMail.subject);
    expect(mail?.text?.trim()).toBe(payoutMail.text);
    expect(mail?.html).toContain('<b>12.34 $</b>');
    expect(mail?.messageId).toBe(`<${jobId}@uberpopug.test>`);
  });

  it('tells the delivery receipt the key; a receipt that fails is retried without sending the mail again', async () => {
    const smtp = await startSmtpListener();
    const receipts: string[] = [];
    const { queue } = startStack({
      smtp,
      onDelivered: async (key) => {
        receipts.push(key);
        if (receipts.length === 1) throw new Error('accounting is down');
      },
    });

    const jobId = await enqueueMail(queue, payoutMail, 'payout:account-2:2024-05-01');

    const job = await settled(queue, jobId, 'completed');
    expect(job.attemptsMade).toBe(2);
    expect(receipts).toEqual(['payout:account-2:2024-05-01', 'payout:account-2:2024-05-01']);
    expect(smtp.received).toHaveLength(1);
  });

  it('sends a mail once however often its key is enqueued, even after the job is gone', async () => {
    const smtp = await startSmtpListener();
    // Completed jobs dropped at once: only the deduplication key can stop a second send.
    const { queue } = startStack({ smtp, queue: { keepCompleted: { count: 0 } } });
    const key = 'registration:user-7:admin-1';

    const ids = await Promise.all([enqueueMail(queue, payoutMail, key), enqueueMail(queue, payoutMail, key)]);
    expect(ids[0]).toBe(mailJobId(key));
    expect(ids[1]).toBe(ids[0]);
    await eventually(() => (smtp.received.length > 0 ? true : undefined), 'first delivery');
    await eventually(async () => ((await queue.getJob(mailJobId(key))) ? undefined : true), 'completed job evicted');

    await enqueueMail(queue, payoutMail, key);
    expect(await pending(queue)).toBe(0);

    // A different key still goes out: the worker is alive, the silence above is dedupe.
    const otherId = await enqueueMail(queue, { ...payoutMail, subject: 'Another mail' }, 'registration:user-8:admin-1');
    await eventually(() => (smtp.received.length === 2 ? true : undefined), 'second key delivered');
    // Delivery comes before the job is marked completed: wait for the queue to drain.
    await eventually(async () => ((await pending(queue)) === 0 ? true : undefined), 'queue drained');
    expect(otherId).not.toBe(ids[0]);
    expect(smtp.received.map((mail) => mail.subject).sort()).toEqual(['Another mail', payoutMail.subject]);
  });

  it('retries with backoff while the SMTP server refuses temporarily, then delivers once', async () => {
    const smtp = await startSmtpListener({
      refuse: (attempt) => (attempt <= 2 ? { code: 451, message: 'Try again later' } : undefined),
    });
    const { queue } = startStack({ smtp, queue: { attempts: 5, backoffDelayMs: 100 } });
    const startedAt = Date.now();

    const jobId = await enqueueMail(queue, payoutMail, 'payout:account-2:2024-05-01');

    const job = await settled(queue, jobId, 'completed');
    expect(smtp.attempts()).toBe(3);
    expect(smtp.received).toHaveLength(1);
    expect(job.attemptsMade).toBe(3);
    // Two waits of 100 ms and 200 ms, each at least 75 % of that with jitter.
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(225);
  });

  it('keeps a mail that never got through in the failed set after every attempt', async () => {
    const smtp = await startSmtpListener({ refuse: () => ({ code: 421, message: 'Service not available' }) });
    const { queue } = startStack({ smtp, queue: { attempts: 3, backoffDelayMs: 50 } });

    const jobId = await enqueueMail(queue, payoutMail, 'payout:account-3:2024-05-01');

    await settled(queue, jobId, 'failed');
    const failed = await queue.getFailed();
    expect(failed.map((job) => job.id)).toEqual([jobId]);
    expect(failed[0]?.attemptsMade).toBe(3);
    expect(failed[0]?.failedReason).toContain('Service not available');
    expect(failed[0]?.data).toMatchObject({ key: 'payout:account-3:2024-05-01', to: payoutMail.to });
    expect(smtp.attempts()).toBe(3);
    expect(smtp.received).toHaveLength(0);
  });

  it('fails at once, without retries, when the server refuses the recipient for good', async () => {
    const smtp = await startSmtpListener({ refuse: () => ({ code: 550, message: 'No such mailbox' }) });
    const { queue } = startStack({ smtp, queue: { attempts: 5, backoffDelayMs: 50 } });

    const jobId = await enqueueMail(queue, payoutMail, 'payout:account-4:2024-05-01');

    const job = await settled(queue, jobId, 'failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toContain('No such mailbox');
    expect(smtp.attempts()).toBe(1);
  });

  it('rejects malformed job data without retrying, and malformed mails before they are queued', async () => {
    const { queue } = startStack({ queue: { attempts: 5, backoffDelayMs: 50 } });

    await expect(enqueueMail(queue, { ...payoutMail, to: 'not an address' }, 'bad:1')).rejects.toThrow();
    expect(await pending(queue)).toBe(0);

    // Something other than enqueueMail (an old producer, a hand-made job) put junk in Redis.
    const junk = { to: 'nobody', subject: 42 } as unknown as MailJobData;
    const job = await queue.add(SEND_MAIL, junk, { jobId: 'mail-junk' });
    const failed = await settled(queue, job.id ?? '', 'failed');
    expect(failed.attemptsMade).toBe(1);
    expect(failed.failedReason).toMatch(/invalid mail job data/);
  });

  it('writes an .eml file under MAIL_DIR when no SMTP server is configured', async () => {
    const { env, queue } = startStack();

    const jobId = await enqueueMail(queue, payoutMail, 'payout:account-5:2024-05-01');

    const job = await settled(queue, jobId, 'completed');
    expect(job.returnvalue).toMatchObject({ via: 'file' });
    const files = await readdir(env.MAIL_DIR);
    expect(files).toHaveLength(1); // no temporary file left behind
    const [file] = files;
    expect(file).toMatch(new RegExp(`^\\d{4}-\\d{2}-\\d{2}T[\\d-]+Z-${jobId}\\.eml$`));
    const raw = await readFile(join(env.MAIL_DIR, file ?? ''), 'utf8');
    expect(raw).toContain(`Subject: ${payoutMail.subject}`);
    expect(raw).toContain('\r\n');
    const parsed = await simpleParser(raw);
    expect(addresses(parsed.from)).toEqual([env.MAIL_FROM]);
    expect(addresses(parsed.to)).toEqual([payoutMail.to]);
    expect(parsed.text?.trim()).toBe(payoutMail.text);
  });
});
