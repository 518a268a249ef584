import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import {
  CompleteTaskDocument,
  CreateTaskDocument,
  ManagementEarningsDocument,
  MostExpensiveTaskDocument,
  RegisterDocument,
  SetUserRoleDocument,
  TasksDocument,
} from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { measureScreenFit, settled } from './screen-fit';
import { signInThroughPage } from './sign-in';

/**
 * Every dashboard at every screen width from a phone up (docs/development.md, Web dashboards: Screens):
 * each is opened as a role that sees it, with the longest text the API accepts (a 200-character
 * title without a space, a 64-character Jira id, long names and emails), at 360, 390, 768 and 1280 px.
 * Nothing may scroll the page sideways and no money figure may be off-screen or clipped by a
 * scrolling box. The screenshots at 360 and 1280 px go to docs/screenshots/ with
 * UPDATE_SCREENSHOTS=1 (to the gitignored test-artifacts/web/screens/ otherwise, so a test run
 * leaves the tree clean).
 */

const WIDTHS = [360, 390, 768, 1280] as const;
const SCREENSHOT_WIDTHS: readonly number[] = [360, 1280];
const HEIGHT = 800;
const SCREENSHOTS = join(__dirname, '..', '..', ...(process.env.UPDATE_SCREENSHOTS === '1' ? ['docs', 'screenshots'] : ['test-artifacts', 'web', 'screens']));

const PASSWORD = 'correct horse battery';
// Fixed names (the file has a database of its own): screenshots taken again differ only in dates and fees.
/** A title at the tracker's limit with no place to break a line: only wrapping anywhere keeps it in its box. */
const LONG_TITLE = 'Recalibratetheparrotfeedingschedule'.repeat(6).slice(0, 200);
const LONG_JIRA_ID = `${'POPUGAVIARYOPERATIONS'.repeat(3).slice(0, 52)}-${'1'.repeat(11)}`;
const LONG_HEADING = `${LONG_JIRA_ID} ${LONG_TITLE}`;
const LONG_NAME = `Bartholomew${'Featherstonehaugh'.repeat(5)}`;

const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
const bed = browserBed(env);
const { call } = bed;

interface Popug {
  email: string;
  name: string;
}

const longWorker: Popug = { name: LONG_NAME, email: 'bartholomew.featherstonehaugh@aviary-operations-department.popug.test' };
const worker: Popug = { name: 'Cora Worker', email: 'cora@popug.test' };
const manager: Popug = { name: 'Mia Manager', email: 'mia@popug.test' };
const accountant: Popug = { name: 'Abe Accountant', email: 'abe@popug.test' };

let origin: string;
let adminToken: string;

async function register(user: Popug, role = 'worker'): Promise<void> {
  const { register: registered } = await call(RegisterDocument, { email: user.email, name: user.name, password: PASSWORD });
  if (role !== 'worker') await call(SetUserRoleDocument, { userId: registered.id, role }, adminToken);
}

/** The company the screens show: tasks on the long-named worker (the longest one done), then the others join. */
async function seed(): Promise<void> {
  await register(longWorker);
  const created = [];
  for (const [title, jiraId] of [
    [LONG_TITLE, LONG_JIRA_ID],
    ['Sweep the cage', 'POPUG-7'],
    ['Count the seeds', null],
  ] as const) {
    const description = `${title}: ${'carefully'.repeat(30)} and then once more, with feeling.`;
    // Refused (and nothing made) until the tracker has learnt of the worker, the only one who may receive tasks yet.
    const { createTask } = await waitFor(
      () => call(CreateTaskDocument, { title, description, jiraId }, adminToken),
      15_000,
      'the tracker to know the worker',
      200,
    );
    created.push(createTask);
  }
  const workerToken = await bed.system().login(longWorker.email, PASSWORD);
  await call(CompleteTaskDocument, { id: created[0]?.id ?? '' }, workerToken);
  await register(worker);
  await register(manager, 'manager');
  await register(accountant, 'accountant');
  await call(CreateTaskDocument, { title: 'Polish the perch', description: 'Until it shines.', jiraId: 'POPUG-8' }, adminToken);

  // Accounting and analytics have applied every event before a page shows them.
  const { tasks } = await call(TasksDocument, {}, adminToken);
  const expected = tasks.reduce((sum, task) => sum + task.assignFee - (task.status === 'DONE' ? task.completionReward : 0), 0);
  await waitFor(
    async () => ((await call(ManagementEarningsDocument, {}, adminToken)).managementEarnings === expected ? true : undefined),
    15_000,
    'accounting to apply every task event',
    200,
  );
  await waitFor(
    async () => (await call(MostExpensiveTaskDocument, { period: 'DAY' }, adminToken)).mostExpensiveTask ?? undefined,
    15_000,
    'analytics to apply the completion',
    200,
  );
}

async function signedIn(email: string, password = PASSWORD): Promise<Page> {
  const { page } = await bed.newPage({ viewport: { width: WIDTHS[0], height: HEIGHT } });
  await signInThroughPage(page, origin, email, password);
  return page;
}

/**
 * The page as it stands, at every width: nothing scrolls sideways (neither the page nor a box in
 * it) and every money figure is in sight. Full-page screenshots at 360 and 1280 px when named.
 */
async function expectEveryWidthFits(page: Page, { screenshot, money = true }: { screenshot?: string; money?: boolean }): Promise<void> {
  const seen = [];
  for (const width of WIDTHS) {
    await page.setViewportSize({ width, height: HEIGHT });
    await settled(page);
    const { overflow, sideways, hidden, figures } = await measureScreenFit(page);
    seen.push({ width, overflow, sideways, hidden, money: money ? figures > 0 : undefined });
    if (screenshot && SCREENSHOT_WIDTHS.includes(width)) {
      await page.screenshot({ path: join(SCREENSHOTS, `${screenshot}-${width}.png`), fullPage: true });
    }
  }
  const fits = WIDTHS.map((width) => ({ width, overflow: 0, sideways: [], hidden: [], money: money ? true : undefined }));
  expect(seen).toEqual(fits);
}

const auditLogRow = (jiraId: string) => ({ name: new RegExp(`Completion reward for .*${jiraId}`) });

beforeAll(async () => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  origin = bed.origin();
  adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await seed();
}, 60_000);

afterEach(() => expect(bed.pageErrors).toEqual([]));

describe('every dashboard from 360 px up, with the longest text the API accepts', () => {
  it('the check itself finds a figure off-screen, one hidden in a box that scrolls, and the box', async () => {
    const { page } = await bed.newPage();
    await page.setContent(`
      <div aria-label="Narrow" style="width: 200px; overflow-x: auto">
        <div style="width: 600px"><span data-money>$1.00</span><span data-money style="margin-left: 400px">$2.00</span></div>
      </div>
      <p style="margin-left: 1400px"><span data-money>$3.00</span></p>
      <details><summary>Closed</summary><span data-money>$4.00</span></details>`);
    const fit = await measureScreenFit(page);
    expect(fit.figures).toBe(3);
    expect(fit.overflow).toBeGreaterThan(0);
    expect(fit.sideways).toEqual(['Narrow: 600 px wide in 200']);
    expect(fit.hidden).toEqual([expect.stringMatching(/^“\$2\.00” .* clipped by div /), expect.stringMatching(/^“\$3\.00” .* outside the viewport/)]);
  });

  it('tracker and accounting as the worker with the long name and the long task', async () => {
    const page = await signedIn(longWorker.email);
    await page.goto(`${origin}/tracker`);
    const myTasks = page.getByRole('region', { name: 'My tasks' });
    await myTasks.getByRole('button', { name: 'Done (1)' }).click();
    await myTasks.getByRole('heading', { name: LONG_HEADING }).waitFor();
    await expectEveryWidthFits(page, { screenshot: 'tracker-worker' });

    await page.goto(`${origin}/accounting`);
    await page.getByRole('region', { name: /My audit log/ }).getByRole('cell', auditLogRow(LONG_JIRA_ID)).waitFor();
    await expectEveryWidthFits(page, { screenshot: 'accounting-worker' });
  });

  it('tracker as a manager: all tasks', async () => {
    const page = await signedIn(manager.email);
    await page.goto(`${origin}/tracker`);
    await page.getByRole('region', { name: 'All tasks' }).getByRole('heading', { name: LONG_HEADING }).waitFor();
    await expectEveryWidthFits(page, { screenshot: 'tracker-manager' });
  });

  it('accounting as an accountant: earnings, all accounts, an audit log, then the figures by day', async () => {
    const page = await signedIn(accountant.email);
    await page.goto(`${origin}/accounting`);
    const earnings = page.getByRole('region', { name: 'Management earnings' });
    await earnings.getByRole('img', { name: /Management earnings by day/ }).waitFor();
    const accounts = page.getByRole('region', { name: 'All accounts' });
    await accounts.getByRole('button', { name: `Audit log of ${longWorker.name}` }).click();
    await accounts.getByRole('cell', auditLogRow(LONG_JIRA_ID)).waitFor();
    await expectEveryWidthFits(page, { screenshot: 'accounting-accountant' });

    // The 30 days' figures too, left out of the screenshots for their length.
    await earnings.getByText('Show the figures').click();
    await earnings.getByRole('region', { name: 'Earnings by day' }).waitFor();
    await expectEveryWidthFits(page, {});
  });

  it('analytics and admin as the admin', async () => {
    const page = await signedIn(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    await page.goto(`${origin}/analytics`);
    await page.getByRole('region', { name: 'Most expensive task' }).getByText(LONG_TITLE).first().waitFor();
    await page.getByRole('region', { name: 'Tasks by creator' }).first().locator('[data-money]').first().waitFor();
    await expectEveryWidthFits(page, { screenshot: 'analytics' });

    // No money on the admin page: what counts is that users and permissions need no sideways scrolling.
    await page.goto(`${origin}/admin`);
    await page.getByRole('region', { name: 'Users' }).getByText(longWorker.email).waitFor();
    await page.getByRole('checkbox', { name: 'task:view_all for manager in tracker' }).waitFor();
    await expectEveryWidthFits(page, { screenshot: 'admin', money: false });
  });
});
