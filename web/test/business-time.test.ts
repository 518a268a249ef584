import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { addDays, isoWeekOf, today as todayIn } from '@popug/lib/business-day';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { formatDay, formatMoney, formatShortDay } from '../src/format';
import {
  AnalyticsSummaryDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  MostExpensiveTaskDocument,
  MyAccountDocument,
  RegisterDocument,
} from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * The business day everywhere (issue 29, point 1): the system keeps its days in UTC, and
 * browsers in New York and Tokyo look at them when their own date is another one. Each
 * browser's clock is faked (the server's is not) so that the browser's day differs from the
 * business day whatever the hour the test runs: New York five minutes after the business
 * day began (still the evening before there), Tokyo ten minutes before it ends (already the
 * next morning there). Every day, "Today", the 30-day chart and every time shown must be the
 * business zone's, times labelled "UTC".
 */

const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0', BUSINESS_TZ: 'UTC' });
const bed = browserBed(env);
const { call } = bed;

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');
const RUN = randomBytes(3).toString('hex');
const PASSWORD = 'correct horse battery';
const worker = { name: `Clockwork ${RUN}`, email: `clockwork-${RUN}@popug.test` };
/** Five fees (at least $10 each) outweigh one reward (at most $40): the worker ends the day below zero. */
const TASKS = 5;

const BROWSERS = [
  { timezoneId: 'America/New_York', clockAt: (day: string) => `${day}T00:05:00Z`, browserDayOffset: -1 },
  { timezoneId: 'Asia/Tokyo', clockAt: (day: string) => `${day}T23:50:00Z`, browserDayOffset: 1 },
];

let origin: string;
let adminToken: string;
let businessToday: string;
let completed: { title: string; completedAt: string; reward: number };
let workerNet: number;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  origin = bed.origin();
  adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await call(RegisterDocument, { email: worker.email, name: worker.name, password: PASSWORD });
  const workerToken = await bed.system().login(worker.email, PASSWORD);
  const createTask = async (index: number) =>
    (await call(CreateTaskDocument, { title: `Wind the clock ${index} ${RUN}`, description: 'Tick.' }, workerToken)).createTask;
  // The tracker may assign tasks to the new worker once replication has brought it there.
  const created = [await waitFor(() => createTask(0), 20_000, 'the tracker to know the worker', 200)];
  for (let index = 1; index < TASKS; index++) created.push(await createTask(index));
  const first = created[0];
  if (!first) throw new Error('no task created');
  const { completeTask } = await call(CompleteTaskDocument, { id: first.id }, workerToken);
  if (!completeTask.completedAt) throw new Error('the task has no completion time');
  completed = { title: completeTask.title, completedAt: completeTask.completedAt, reward: completeTask.completionReward };
  workerNet = completed.reward - created.reduce((sum, task) => sum + task.assignFee, 0);
  businessToday = todayIn(env.BUSINESS_TZ);

  // Accounting and analytics learn of the money by replication: wait until both show it.
  await waitFor(
    async () => {
      const { myAccount } = await call(MyAccountDocument, {}, workerToken);
      const { analyticsSummary } = await call(AnalyticsSummaryDocument, {}, adminToken);
      const { mostExpensiveTask } = await call(MostExpensiveTaskDocument, { period: 'DAY' }, adminToken);
      const settled = myAccount.transactions.length === TASKS + 1 && analyticsSummary.negativeBalanceCount === 1 && mostExpensiveTask !== null;
      return settled ? true : undefined;
    },
    20_000,
    'the money to reach accounting and analytics',
  );
}, 60_000);

afterEach(() => {
  expect(bed.pageErrors).toEqual([]);
});

/** A page whose browser runs in `timezoneId`, its clock at `at` (and running on from there). */
async function browserAt(timezoneId: string, at: string): Promise<Page> {
  const { page } = await bed.newPage({ timezoneId });
  await page.clock.install({ time: at });
  return page;
}

const see = (scope: Page | Locator, text: string) => scope.getByText(text).first().waitFor();
/** "6 Dec 2026, 13:04 UTC": how the app writes an instant of the business zone for a browser elsewhere. */
const businessTime = (iso: string) => `${formatDay(iso.slice(0, 10))}, ${iso.slice(11, 16)} UTC`;
const pickerText = (scope: Page | Locator) => scope.locator('.day-picker').first().innerText();

describe.each(BROWSERS)('a browser in $timezoneId, its date not the business day', ({ timezoneId, clockAt, browserDayOffset }) => {
  const yesterday = () => addDays(businessToday, -1);

  it('a worker sees the business day: the completed task in business time, the day’s money in the audit log, a past day’s balance said to be today’s', async () => {
    const page = await browserAt(timezoneId, clockAt(businessToday));
    // The premise: this browser's own calendar shows another day than the business one.
    expect(await page.evaluate(() => new Date().toLocaleDateString('en-CA'))).toBe(addDays(businessToday, browserDayOffset));

    await signInThroughPage(page, origin, worker.email, PASSWORD);
    await page.getByRole('button', { name: 'Done (1)' }).click();
    const task = page.getByRole('listitem').filter({ hasText: completed.title });
    await see(task, businessTime(completed.completedAt));

    await page.goto(`${origin}/accounting`);
    const mine = page.getByRole('region', { name: 'My account' });
    await see(mine, `Audit log, ${formatDay(businessToday)}`);
    await see(mine, `Net on ${formatDay(businessToday)}`);
    await see(mine, `+${formatMoney(completed.reward)}`);
    expect(await pickerText(mine)).toContain(`${formatDay(businessToday)} UTC`);
    expect(await mine.getByRole('button', { name: 'Back to today' }).count()).toBe(0);

    await mine.getByLabel('Day', { exact: true }).fill(yesterday());
    await see(mine, `No money moved on ${formatDay(yesterday())}.`);
    await see(mine, 'Current balance');
    await see(mine, `The balance is today's; the audit log below is of ${formatDay(yesterday())}.`);
    await page.screenshot({ path: join(ARTIFACTS, `business-time-past-day-${timezoneId.replace('/', '-')}.png`), fullPage: true });
    expect(await pickerText(mine)).toContain(formatDay(yesterday()));
    await mine.getByRole('button', { name: 'Back to today' }).click();
    await see(mine, `Net on ${formatDay(businessToday)}`);
    expect(await mine.getByText('Current balance').count()).toBe(0);
  });

  it('an admin sees today’s money in accounting, the 30 days up to the business day, and analytics of the business day', async () => {
    const page = await browserAt(timezoneId, clockAt(businessToday));
    await signInThroughPage(page, origin, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    const management = -workerNet;

    await page.goto(`${origin}/accounting`);
    const earnings = page.getByRole('region', { name: 'Management earnings' });
    await see(earnings, formatMoney(management));
    await see(earnings, `to ${formatDay(businessToday)}: ${formatMoney(management)} in total`);

    const accounts = page.getByRole('region', { name: 'All accounts' });
    await accounts.getByRole('button', { name: `Audit log of ${worker.name}` }).click();
    const log = page.locator('.subpanel');
    await see(log, `Net on ${formatDay(businessToday)}`);
    await log.getByLabel('Day', { exact: true }).fill(yesterday());
    await see(log, `No money moved on ${formatDay(yesterday())}.`);
    await see(log, 'current balance');
    await log.getByRole('button', { name: 'Back to today' }).click();
    await see(log, `Net on ${formatDay(businessToday)}`);

    await page.goto(`${origin}/analytics`);
    const summary = page.getByRole('region', { name: 'Today' });
    await see(summary, formatMoney(management));
    const negative = summary.locator('.figure').filter({ hasText: 'negative balance' });
    await see(negative, '1');
    expect(await pickerText(page)).toContain(`${formatDay(businessToday)} UTC`);

    const cards = page.getByRole('region', { name: 'Most expensive task' });
    const week = isoWeekOf(businessToday);
    await see(cards.getByRole('article', { name: /^Day/ }), `Completed ${businessTime(completed.completedAt)}`);
    await see(cards.getByRole('heading', { name: /^Week/ }), `${formatShortDay(week.from)} – ${formatDay(week.to)}`);
    const month = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${businessToday}T00:00:00Z`));
    await see(cards.getByRole('heading', { name: /^Month/ }), month);
    await page.screenshot({ path: join(ARTIFACTS, `business-time-analytics-${timezoneId.replace('/', '-')}.png`), fullPage: true });

    await page.getByLabel('Day', { exact: true }).fill(yesterday());
    await page.getByRole('heading', { name: formatDay(yesterday()), exact: true }).waitFor();
    await see(cards, 'No task completed on this day.');
    await page.getByRole('button', { name: 'Back to today' }).click();
    await page.getByRole('heading', { name: 'Today', exact: true }).waitFor();

    // Left open past the business midnight, the page turns to the new day by itself.
    await page.clock.fastForward('24:00:00');
    await waitFor(async () => ((await pickerText(page)).includes(formatDay(addDays(businessToday, 1))) ? true : undefined), 5_000, 'the next business day');
    await page.getByRole('heading', { name: 'Today', exact: true }).waitFor();
  });
});
