import type { BrowserContext, Locator, Page, Route } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, type TestUser } from '@popug/testing/people';
import { testLogger } from '@popug/testing/stack';
import { waitFor } from '@popug/testing/wait';
import { restartService, stopService } from '../../test/faults/fixtures/restartable';
import { createTrackerServer } from '../../subgraphs/tracker/server';
import { formatMoney } from '../src/format';
import {
  AccountsDocument,
  AnalyticsSummaryDocument,
  CompleteTaskDocument,
  CreateTaskDocument,
  MyAccountDocument,
  MyTasksDocument,
  ShuffleTasksDocument,
} from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * The dashboards live, in Chromium against the whole system (real PostgreSQL and Redis, the
 * replicator woken by each commit, the gateway's SSE transport), each popug in a browser
 * context of their own. A manager's shuffle reaches the worker's list within 2 s and without
 * a reload; a worker's completion moves the accountant's table, and the worker's own balance
 * and audit log; the admin's analytics summary follows the day's money; a page catches up
 * when its stream was cut (a subgraph restart), when the browser is back online, and when
 * the tab comes back to the front.
 */

const PASSWORD = 'live-dashboards-pw';
/** The bound: a change made in one browser shows in another within 2 s. */
const LIVE_WITHIN_MS = 2_000;
/** web/src/api/catch-up.ts coalesces for 150 ms, then the queries take their time. */
const CATCH_UP_SETTLE_MS = 600;

const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
const bed = browserBed(env);
const { call, newPage } = bed;

let manager: TestUser;
let worker: TestUser;
let accountant: TestUser;
let adminToken: string;

async function openAs(user: TestUser, path: string, password = PASSWORD, { live: followsLive = true } = {}): Promise<{ page: Page; context: BrowserContext }> {
  const opened = await newPage();
  await signInThroughPage(opened.page, bed.origin(), user.email, password);
  await opened.page.goto(`${bed.origin()}${path}`);
  if (followsLive) await live(opened.page);
  // Connected, the page catches up once (its queries went out before the stream was up): let that land.
  await opened.page.waitForTimeout(CATCH_UP_SETTLE_MS);
  return opened;
}

/** Waits for the header to say the page follows changes. */
const live = (page: Page) => page.locator('[data-live="live"]').waitFor();

/** Marks the page: a reload would lose the mark. */
const mark = (page: Page) => page.evaluate(() => Object.assign(window, { popugMark: true }));
const stillMarked = (page: Page) => page.evaluate(() => (window as unknown as { popugMark?: boolean }).popugMark === true);

const openTitles = async (token: string): Promise<string[]> =>
  (await call(MyTasksDocument, { status: 'OPEN' }, token)).myTasks.map((task) => task.title).sort();

/** The open tasks' titles the page's My tasks shows. */
async function shownOpenTitles(myTasks: Locator): Promise<string[]> {
  const titles = await myTasks.locator('.task-title').allTextContents();
  return titles.map((title) => title.trim()).sort();
}

/** Until the page shows `expected`; how long that took from `since`. */
async function shownWithin(myTasks: Locator, expected: string[], since: number, timeoutMs: number): Promise<number> {
  const want = JSON.stringify(expected);
  await waitFor(async () => (JSON.stringify(await shownOpenTitles(myTasks)) === want ? true : undefined), timeoutMs, `My tasks showing ${want}`, 20);
  return Date.now() - since;
}

/** Shuffles as the manager (through the API) until the worker's open tasks change; their titles before and after. */
async function shuffleUntilWorkerChanges(): Promise<{ before: string[]; after: string[] }> {
  const before = await openTitles(worker.token);
  for (let attempt = 0; attempt < 10; attempt += 1) {
    await call(ShuffleTasksDocument, {}, manager.token);
    const after = await openTitles(worker.token);
    if (JSON.stringify(after) !== JSON.stringify(before)) return { before, after };
  }
  throw new Error('ten shuffles left the worker’s open tasks as they were');
}

let created = 0;

/**
 * Tasks go to a random popug who may receive them (workers and accountants), once the
 * replicator has brought them to the tracker: the manager creates until the worker holds `count` open.
 */
async function untilWorkerHolds(count: number): Promise<void> {
  await waitFor(
    async () => {
      if ((await openTitles(worker.token)).length >= count) return true;
      created += 1;
      await call(CreateTaskDocument, { title: `Live task ${created}`, description: 'Followed live.', jiraId: null }, manager.token);
      return undefined;
    },
    30_000,
    `${count} open tasks on the worker`,
    100,
  );
}

/** The worker's tracker, live, showing their open tasks, marked. */
async function workerTrackerShown(): Promise<{ page: Page; context: BrowserContext; myTasks: Locator }> {
  await untilWorkerHolds(2);
  const { page, context } = await openAs(worker, '/tracker');
  const myTasks = page.getByRole('region', { name: 'My tasks' });
  await shownWithin(myTasks, await openTitles(worker.token), Date.now(), 5_000);
  await mark(page);
  return { page, context, myTasks };
}

/**
 * Cuts the page's live stream and keeps it from coming back (new streams refused) while the
 * worker's tasks change: what changes meanwhile reaches the page only by catching up. The
 * tracker goes away and comes back, so the gateway ends its streams (SUBSCRIPTION_INTERRUPTED).
 */
async function changeWhileCut(page: Page): Promise<{ after: string[]; allowStreams(): Promise<void> }> {
  const refuseStreams = (route: Route) => (route.request().headers().accept === 'text/event-stream' ? route.abort('internetdisconnected') : route.continue());
  await page.route('**/graphql', refuseStreams);
  await stopService(bed.system().services.tracker);
  await page.locator('[data-live="reconnecting"]').waitFor();
  await restartService(bed.system().services.tracker, createTrackerServer, bed.system().env, testLogger('tracker'));
  const { after } = await shuffleUntilWorkerChanges();
  return { after, allowStreams: () => page.unroute('**/graphql', refuseStreams) };
}

beforeAll(async () => {
  const system = bed.system();
  adminToken = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  manager = await hire(system, adminToken, PASSWORD, 'manager', 'live-manager');
  worker = await hire(system, adminToken, PASSWORD, 'worker', 'live-worker');
  accountant = await hire(system, adminToken, PASSWORD, 'accountant', 'live-accountant');
  await hire(system, adminToken, PASSWORD, 'worker', 'live-other');
  await untilWorkerHolds(3);
}, 90_000);

afterEach(() => {
  expect(bed.pageErrors).toEqual([]);
});

describe('live dashboards in Chromium', () => {
  it('a manager shuffles in one browser; the worker’s list changes in the other within 2 s, without a reload', async () => {
    const { page: workerPage } = await openAs(worker, '/tracker');
    const myTasks = workerPage.getByRole('region', { name: 'My tasks' });
    await shownWithin(myTasks, await openTitles(worker.token), Date.now(), 5_000);
    await mark(workerPage);

    const { page: managerPage } = await openAs(manager, '/tracker');
    const allTasks = managerPage.getByRole('region', { name: 'All tasks' });
    let change: { before: string[]; after: string[] } | undefined;
    for (let attempt = 0; attempt < 10 && !change; attempt += 1) {
      const before = await openTitles(worker.token);
      await allTasks.getByRole('button', { name: 'Shuffle tasks' }).click();
      await managerPage.getByRole('alertdialog', { name: 'Shuffle every open task?' }).getByRole('button', { name: 'Yes, shuffle' }).click();
      await allTasks.getByText(/^Shuffled: /).waitFor();
      const shuffledAt = Date.now();
      const after = await openTitles(worker.token);
      if (JSON.stringify(after) === JSON.stringify(before)) continue;
      change = { before, after };
      const took = await shownWithin(myTasks, after, shuffledAt, LIVE_WITHIN_MS + 3_000);
      expect(took).toBeLessThanOrEqual(LIVE_WITHIN_MS);
    }
    if (!change) throw new Error('ten shuffles left the worker’s open tasks as they were');

    // A task taken away says where it went.
    const taken = change.before.filter((title) => !change.after.includes(title));
    if (taken.length > 0) await myTasks.getByText(`“${taken[0]}” was reassigned to`).waitFor();
    expect(await stillMarked(workerPage)).toBe(true);
  });

  it('a worker completes a task; the accountant’s table of accounts moves', async () => {
    const { page: accountantPage } = await openAs(accountant, '/accounting');
    const accounts = accountantPage.getByRole('region', { name: 'All accounts' });
    const workerRow = accounts.getByRole('row').filter({ has: accountantPage.getByRole('cell', { name: worker.name, exact: true }) });
    await workerRow.waitFor();
    const balanceBefore = (await call(AccountsDocument, {}, accountant.token)).accounts.find((account) => account.user.id === worker.id)?.balance;
    await workerRow.getByText(formatMoney(balanceBefore ?? 0), { exact: true }).waitFor();
    await mark(accountantPage);

    await untilWorkerHolds(1);
    const { page: workerPage } = await openAs(worker, '/tracker');
    const myTasks = workerPage.getByRole('region', { name: 'My tasks' });
    const [title] = await openTitles(worker.token);
    if (!title) throw new Error('the worker has no open task to complete');
    await myTasks.getByRole('button', { name: `Complete “${title}”` }).click();
    await workerPage.getByText(`Completed “${title}”`).waitFor();

    const balanceAfter = await waitFor(
      async () => {
        const balance = (await call(AccountsDocument, {}, accountant.token)).accounts.find((account) => account.user.id === worker.id)?.balance;
        return balance !== undefined && balance !== balanceBefore ? balance : undefined;
      },
      10_000,
      'the reward in accounting',
    );
    await workerRow.getByText(formatMoney(balanceAfter), { exact: true }).waitFor({ timeout: 10_000 });
    expect(await stillMarked(accountantPage)).toBe(true);
  });

  it('a worker’s own balance and audit log move as their reward is booked, without a reload', async () => {
    await untilWorkerHolds(1);
    const { page } = await openAs(worker, '/accounting');
    const mine = page.getByRole('region', { name: 'My account' });
    const before = (await call(MyAccountDocument, {}, worker.token)).myAccount.balance;
    await mine.locator('.figure').getByText(formatMoney(before), { exact: true }).waitFor();
    await mark(page);

    const [task] = (await call(MyTasksDocument, { status: 'OPEN' }, worker.token)).myTasks;
    if (!task) throw new Error('the worker has no open task to complete');
    await call(CompleteTaskDocument, { id: task.id }, worker.token);
    // From the moment accounting holds the reward (the replicator's part is not the page's).
    const booked = await waitFor(
      async () => {
        const { balance } = (await call(MyAccountDocument, {}, worker.token)).myAccount;
        return balance !== before ? { balance, at: Date.now() } : undefined;
      },
      10_000,
      'the reward in accounting',
      20,
    );
    await mine.locator('.figure').getByText(formatMoney(booked.balance), { exact: true }).waitFor({ timeout: LIVE_WITHIN_MS });
    await mine.getByRole('row').filter({ hasText: task.title }).filter({ hasText: 'Reward' }).waitFor({ timeout: LIVE_WITHIN_MS });
    expect(Date.now() - booked.at).toBeLessThanOrEqual(LIVE_WITHIN_MS);
    expect(await stillMarked(page)).toBe(true);
  });

  it('an admin’s analytics summary follows the day’s money as tasks are created, without a reload', async () => {
    const adminUser: TestUser = { id: '', email: env.ADMIN_EMAIL, name: 'admin', role: 'admin', token: adminToken };
    const { page } = await openAs(adminUser, '/analytics', env.ADMIN_PASSWORD);
    const summary = page.getByRole('region', { name: 'Today' });
    const earningsOf = async () => (await call(AnalyticsSummaryDocument, {}, adminToken)).analyticsSummary.managementEarnings;
    const before = await earningsOf();
    await summary.getByText(formatMoney(before), { exact: true }).waitFor();
    await mark(page);

    // A new task's assignment fee is the management's: once analytics holds it, the page shows it.
    created += 1;
    await call(CreateTaskDocument, { title: `Live task ${created}`, description: 'Followed live.', jiraId: null }, manager.token);
    const booked = await waitFor(
      async () => {
        const earnings = await earningsOf();
        return earnings !== before ? { earnings, at: Date.now() } : undefined;
      },
      10_000,
      'the fee in analytics',
      20,
    );
    await summary.getByText(formatMoney(booked.earnings), { exact: true }).waitFor({ timeout: LIVE_WITHIN_MS });
    expect(Date.now() - booked.at).toBeLessThanOrEqual(LIVE_WITHIN_MS);
    expect(await stillMarked(page)).toBe(true);
  });

  it('an admin’s users table catches up when the tab comes back to the front', async () => {
    const adminUser: TestUser = { id: '', email: env.ADMIN_EMAIL, name: 'admin', role: 'admin', token: adminToken };
    const { page } = await openAs(adminUser, '/admin', env.ADMIN_PASSWORD, { live: false });
    const users = page.getByRole('region', { name: 'Users' });
    await users.getByText(worker.email, { exact: true }).waitFor();
    await mark(page);

    const newcomer = await hire(bed.system(), adminToken, PASSWORD, 'worker', 'live-newcomer');
    await page.waitForTimeout(500);
    expect(await users.getByText(newcomer.email, { exact: true }).count()).toBe(0);
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    await users.getByText(newcomer.email, { exact: true }).waitFor({ timeout: 3_000 });
    expect(await stillMarked(page)).toBe(true);
  });

  it('a page whose live stream was cut (its subgraph restarted) catches up when it reconnects', async () => {
    const { page, myTasks } = await workerTrackerShown();
    const { after, allowStreams } = await changeWhileCut(page);
    await page.waitForTimeout(500);
    expect(await shownOpenTitles(myTasks)).not.toEqual(after);

    await allowStreams();
    // The stream's next try comes after its backoff (≤ 8 s after a few refused tries).
    await shownWithin(myTasks, after, Date.now(), 15_000);
    await live(page);
    expect(await stillMarked(page)).toBe(true);
  });

  it('a page that was offline catches up when the browser is back online', async () => {
    const { page, context, myTasks } = await workerTrackerShown();
    await context.setOffline(true);
    const { after, allowStreams } = await changeWhileCut(page);

    const back = Date.now();
    await context.setOffline(false);
    // Back online, the queries read again at once, whatever the stream's backoff.
    await shownWithin(myTasks, after, back, 3_000);
    await allowStreams();
    await live(page);
    expect(await stillMarked(page)).toBe(true);
  });
});
