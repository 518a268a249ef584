import { createLogger } from '@popug/lib/logger';
import { addDays, instantAt } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { privateRedis, type PrivateRedis } from '@popug/testing/private-redis';
import { startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { waitFor } from '@popug/testing/wait';
import { startNotifier, type Notifier } from '../../../../jobs/notifier/worker';
import { MAIL_REQUEUE_AFTER_MS } from '../../services/day-close';
import { createMailReceipts } from '../../../../jobs/notifier/receipts';
import { payoutBeds } from './fixtures/bed';
import { addMoney, createUsers } from './fixtures/ledger';

/**
 * Payout mails delivered at least once, recorded when delivered: the mail server refuses
 * for a while, Redis is killed with every queued mail and started empty, and still every
 * payout mail arrives, once; a delivered mail is never queued again.
 */
const TZ = 'Europe/Berlin';
let redis: PrivateRedis;
let smtp: SmtpListener;
let notifier: Notifier | undefined;
let refusing = true;

beforeAll(async () => {
  redis = await privateRedis();
  await redis.start();
  smtp = await startSmtpListener({ refuse: () => (refusing ? { code: 451, message: 'Try again later' } : undefined) });
});
const env = isolateTestFile({ BUSINESS_TZ: TZ });
const logger = createLogger('mail-delivery-test');
const { bed, closeBeds } = payoutBeds(env, logger);
let receipts: ReturnType<typeof createMailReceipts>;

afterAll(async () => {
  await closeBeds();
  await notifier?.close();
  await receipts?.close();
  await smtp?.close();
  await redis?.kill();
});

const paidMails = () => smtp.received.filter((mail) => /You were paid/.test(mail.subject ?? ''));

test('Redis wiped after a close queued its mails: every payout mail still arrives, once', async () => {
  const day = '2025-06-02';
  const made = await bed('wipe', new Date(instantAt(addDays(day, 1), '00:00', TZ).getTime() + 15_000), { REDIS_URL: redis.url });
  receipts = createMailReceipts(made.env, logger);
  const users = await createUsers(made.accounting, 12, 'wipe');
  await addMoney(made.accounting, users.map((userId, index) => ({ userId, day, amount: 1000 + index })));
  notifier = startNotifier({ ...made.env, SMTP_URL: smtp.url }, logger, receipts.delivered);

  const worker = await made.start();
  await worker.tick(); // the start's own tick may have closed the day already
  const { rows: paid } = await made.accounting.query<{ n: number }>('select count(*)::int as n from payouts');
  expect(paid[0]?.n).toBe(users.length);
  await waitFor(async () => (smtp.attempts() >= 5 ? true : undefined), 30_000, 'the notifier to try and be refused');
  expect(paidMails()).toHaveLength(0);

  // Redis dies with every queued mail and every mail key. (A mail the notifier holds in
  // memory at that moment may still be delivered by it, and once more after the re-queue,
  // with the same Message-ID; here the notifier restarts with Redis, as a host reboot does.)
  await notifier.close();
  await redis.kill();
  await redis.start();
  refusing = false;
  notifier = startNotifier({ ...made.env, SMTP_URL: smtp.url }, logger, receipts.delivered);
  // Within the re-queue interval a tick leaves the mails alone (they may still be in Redis) ...
  made.clock.set(new Date(made.clock.now().getTime() + MAIL_REQUEUE_AFTER_MS / 2));
  const within = await waitFor(
    () => worker.tick().then((report) => ('error' in report.mail ? undefined : report), () => undefined),
    30_000,
    'a tick that reached Redis once it is back',
  );
  expect(within.mail).toEqual({ queued: 0, waitingForUser: 0 });
  // ... after it, the undelivered ones are queued again and delivered.
  made.clock.set(new Date(made.clock.now().getTime() + MAIL_REQUEUE_AFTER_MS));
  const after = await worker.tick();
  expect(after.mail).toEqual({ queued: users.length, waitingForUser: 0 });
  await smtp.waitForMails((mail) => /You were paid/.test(mail.subject ?? ''), users.length, 60_000);
  await waitFor(
    async () => {
      const { rows } = await made.accounting.query<{ n: number }>('select count(*)::int as n from payouts where mail_delivered_at is null');
      return rows[0]?.n === 0 ? true : undefined;
    },
    30_000,
    'every delivery to be recorded',
  );

  // Delivered mails are never queued again, however many ticks follow.
  made.clock.set(new Date(made.clock.now().getTime() + 3 * MAIL_REQUEUE_AFTER_MS));
  await worker.tick();
  made.clock.set(new Date(made.clock.now().getTime() + 3 * MAIL_REQUEUE_AFTER_MS));
  const last = await worker.tick();
  expect(last.mail).toEqual({ queued: 0, waitingForUser: 0 });
  expect(paidMails()).toHaveLength(users.length);
  expect(new Set(paidMails().map((mail) => mail.to && 'text' in mail.to ? mail.to.text : '')).size).toBe(users.length);
}, 120_000);
