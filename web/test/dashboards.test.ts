import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import {
  CreateTaskDocument,
  ManagementEarningsDocument,
  MostExpensiveTaskDocument,
  RegisterDocument,
  SetUserRoleDocument,
  TasksDocument,
} from '../src/generated/graphql';
import { browserBed, DESKTOP } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * The dashboards end to end: the whole system in this process (real PostgreSQL and
 * Redis, the replicator every 200 ms), the web app served by the gateway, driven in
 * Debian's Chromium. One story, in order: a worker registers and works a task, a manager
 * shuffles, an accountant reads the earnings, an admin opens the tracker to a new role.
 * Screenshots of every dashboard go to test-artifacts/web/.
 */

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');
const PASSWORD = 'correct horse battery';
const RUN = randomBytes(3).toString('hex');
const PHONE = { width: 375, height: 812 };

const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });

const bed = browserBed(env);
const { call } = bed;

let origin: string;
let adminToken: string;
const requested: string[] = [];

interface Popug {
  email: string;
  name: string;
}

const popug = (name: string): Popug => ({ name: `${name} ${RUN}`, email: `${name.toLowerCase()}-${RUN}@popug.test` });
const worker = popug('Worker');
const manager = popug('Manager');
const accountant = popug('Accountant');
const guest = popug('Guest');

async function registerWithRole(user: Popug, role: string): Promise<void> {
  const { register } = await call(RegisterDocument, { email: user.email, name: user.name, password: PASSWORD });
  if (role !== 'worker') await call(SetUserRoleDocument, { userId: register.id, role }, adminToken);
}

async function newPage(viewport = DESKTOP): Promise<Page> {
  const { page, context } = await bed.newPage({ viewport });
  context.on('request', (request) => requested.push(request.url()));
  return page;
}

const signIn = (page: Page, email: string, password = PASSWORD) => signInThroughPage(page, origin, email, password);

async function navLinks(page: Page): Promise<string[]> {
  const nav = page.getByRole('navigation', { name: 'Dashboards' });
  await nav.locator('ul').waitFor({ state: 'attached' }); // probed: an empty list when nothing may be opened
  return nav.getByRole('link').allTextContents();
}

/** The page must fit the viewport: nothing may scroll sideways but a table's own box. */
async function expectNoHorizontalOverflow(page: Page): Promise<void> {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  origin = bed.origin();
  adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
});

describe('web dashboards in Chromium', () => {
  it('sends a visitor without a session to the login page', async () => {
    const page = await newPage();
    await page.goto(`${origin}/tracker`);
    await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/tracker');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();

    // The API's refusal of a login reads as a message, and leaves the user on the form.
    await page.getByLabel('Email').fill(`nobody-${RUN}@popug.test`);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/email or password/i).waitFor();
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('a worker registers, signs in, creates a task (after fixing inline errors) and completes it', async () => {
    const page = await newPage();
    await page.goto(`${origin}/register`);
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByText('Enter your name.').isVisible()).toBe(true);
    await page.getByLabel('Name').fill(worker.name);
    await page.getByLabel('Email').fill(worker.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await screenshot(page, 'register');
    await page.getByRole('button', { name: 'Create account' }).click();

    await page.waitForURL((url) => url.pathname === '/login');
    expect(await page.getByLabel('Email').inputValue()).toBe(worker.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await screenshot(page, 'login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/tracker');
    expect(await navLinks(page)).toEqual(['Tracker', 'Accounting']);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    await page.getByText('Nothing open on you right now.').waitFor();
    // A worker may not see everyone's tasks: the section is not there at all.
    expect(await page.getByRole('heading', { name: 'All tasks' }).count()).toBe(0);

    // Inline validation mirrors the server's rules, before any request.
    await page.getByRole('button', { name: 'Create task' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create task' });
    await dialog.getByLabel('Title').fill('Feed the [parrots]');
    await dialog.getByLabel('Jira id (optional)').fill('popug-1');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    await dialog.getByText('No “[” or “]” in the title').waitFor();
    await dialog.getByText('A project key and a number, e.g. POPUG-42').waitFor();
    await dialog.getByText('Describe the task.').waitFor();
    expect(await dialog.getByLabel('Title').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'tracker-validation');

    await dialog.getByLabel('Title').fill('Feed the parrots');
    await dialog.getByLabel('Jira id (optional)').fill('POPUG-1');
    await dialog.getByLabel('Description').fill('Seeds in the morning, fruit at noon.');
    expect(await dialog.getByLabel('Title').getAttribute('aria-invalid')).toBe('false');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    // The only popug who may receive tasks yet is this worker (admins and managers do not).
    await dialog.getByText(`Created “Feed the parrots”, assigned to ${worker.name}`).waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();

    const myTasks = page.getByRole('region', { name: 'My tasks' });
    await myTasks.getByRole('button', { name: 'Open (1)' }).waitFor();
    await myTasks.getByRole('heading', { name: 'POPUG-1 Feed the parrots' }).waitFor();
    await screenshot(page, 'tracker-worker');

    await myTasks.getByRole('button', { name: 'Complete “Feed the parrots”' }).click();
    await page.getByText('Completed “Feed the parrots”').waitFor();
    await myTasks.getByRole('button', { name: 'Done (1)' }).click();
    await myTasks.getByRole('heading', { name: 'POPUG-1 Feed the parrots' }).waitFor();

    await page.setViewportSize(PHONE);
    await expectNoHorizontalOverflow(page);
    await screenshot(page, 'tracker-worker-375');
  });

  it('a manager sees everyone’s tasks, filters them and shuffles after confirming', async () => {
    // Created before anyone else may receive tasks: all three land on the worker.
    for (const title of ['Sweep the cage', 'Count the seeds', 'Polish the perch']) {
      const { createTask } = await call(CreateTaskDocument, { title, description: `${title}, carefully.`, jiraId: null }, adminToken);
      expect(createTask.assignee.name).toBe(worker.name);
    }
    await registerWithRole(manager, 'manager');

    const page = await newPage();
    await signIn(page, manager.email);
    await page.waitForURL((url) => url.pathname === '/tracker');
    expect(await navLinks(page)).toEqual(['Tracker', 'Accounting']);
    const allTasks = page.getByRole('region', { name: 'All tasks' });
    await allTasks.getByText('Showing 4 tasks').waitFor();

    await allTasks.getByLabel('Status').selectOption('OPEN');
    await allTasks.getByText('Showing 3 tasks').waitFor();
    await allTasks.getByLabel('Assignee').selectOption({ label: worker.name });
    await allTasks.getByText('Showing 3 tasks').waitFor();
    await allTasks.getByLabel('Status').selectOption('DONE');
    await allTasks.getByText('Showing 1 task,').waitFor();
    await allTasks.getByLabel('Status').selectOption('');
    await allTasks.getByLabel('Assignee').selectOption('');
    await allTasks.getByText('Showing 4 tasks').waitFor();

    await allTasks.getByRole('button', { name: 'Shuffle tasks' }).click();
    const confirm = page.getByRole('alertdialog', { name: 'Shuffle every open task?' });
    await confirm.waitFor();
    await screenshot(page, 'tracker-shuffle-confirm');
    await confirm.getByRole('button', { name: 'Yes, shuffle' }).click();
    await allTasks.getByText('Shuffled: 3 open tasks reassigned.').waitFor();
    await screenshot(page, 'tracker-manager');
  });

  it('an accountant sees today’s management earnings, the 30-day chart and every account', async () => {
    await registerWithRole(accountant, 'accountant');
    // Every task's fee at creation, again for the three open ones at the shuffle, minus the one reward.
    const { tasks } = await call(TasksDocument, {}, adminToken);
    const expected = tasks.reduce(
      (sum, task) => sum + task.assignFee * (task.status === 'OPEN' ? 2 : 1) - (task.status === 'DONE' ? task.completionReward : 0),
      0,
    );
    const earnings = await waitFor(
      async () => {
        const { managementEarnings } = await call(ManagementEarningsDocument, {}, adminToken);
        return managementEarnings === expected ? managementEarnings : undefined;
      },
      15_000,
      'accounting to apply every task event',
      200,
    );

    const page = await newPage();
    await signIn(page, accountant.email);
    expect(await navLinks(page)).toEqual(['Tracker', 'Accounting']);
    await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: 'Accounting' }).click();
    await page.waitForURL((url) => url.pathname === '/accounting');

    const earningsSection = page.getByRole('region', { name: 'Management earnings' });
    await earningsSection.getByText(`$${(earnings / 100).toFixed(2)}`).first().waitFor();
    const chart = earningsSection.getByRole('img', { name: /Management earnings by day/ });
    await chart.waitFor();
    expect(await chart.locator('rect').count()).toBe(30);

    const accounts = page.getByRole('region', { name: 'All accounts' });
    await accounts.getByRole('cell', { name: worker.name, exact: true }).waitFor();
    await accounts.getByRole('button', { name: `Audit log of ${worker.name}` }).click();
    await accounts.getByRole('cell', { name: /POPUG-1/ }).first().waitFor();

    const mine = page.getByRole('region', { name: 'My account' });
    await mine.getByText('Balance').waitFor();
    await screenshot(page, 'accounting-accountant');
    await page.setViewportSize(PHONE);
    await expectNoHorizontalOverflow(page);
    await screenshot(page, 'accounting-accountant-375');
  });

  it('an admin creates a role and grants it a tracker permission; a user with that role then sees the tracker', async () => {
    const role = `auditor-${RUN}`;
    await registerWithRole(guest, 'worker');

    await waitFor(
      async () => (await call(MostExpensiveTaskDocument, { period: 'DAY' }, adminToken)).mostExpensiveTask ?? undefined,
      15_000,
      'analytics to apply the completion',
      200,
    );

    const admin = await newPage();
    await signIn(admin, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    expect(await navLinks(admin)).toEqual(['Tracker', 'Accounting', 'Analytics', 'Admin']);

    await admin.getByRole('link', { name: 'Analytics' }).click();
    const summary = admin.getByRole('region', { name: 'Today' });
    await summary.getByText('Popugs with a negative balance').waitFor();
    await admin.getByRole('region', { name: 'Most expensive task' }).getByText('Feed the parrots').first().waitFor();
    // The worker created tasks today: a row of their own in the table of tasks by creator.
    await admin.getByRole('region', { name: 'Tasks by creator' }).first().getByRole('cell', { name: worker.name }).waitFor();
    await screenshot(admin, 'analytics-admin');
    await admin.setViewportSize(PHONE);
    await expectNoHorizontalOverflow(admin);
    await screenshot(admin, 'analytics-admin-375');
    await admin.setViewportSize(DESKTOP);

    await admin.getByRole('link', { name: 'Admin' }).click();
    await admin.getByLabel('Role name').fill('Bad Name');
    await admin.getByRole('button', { name: 'Create role' }).click();
    await admin.getByText('2–32 characters: lower-case letters').waitFor();
    await admin.getByLabel('Role name').fill(role);
    await admin.getByRole('button', { name: 'Create role' }).click();
    await admin.getByText(`Created the role “${role}”`).waitFor();

    await admin.getByLabel(`Role of ${guest.name}`).selectOption(role);
    await admin.getByText(`${guest.name} is now ${role}.`).waitFor();

    // With the role but no permission anywhere yet, the guest may open nothing.
    const guestPage = await newPage();
    await signIn(guestPage, guest.email);
    await guestPage.getByText('Your role may not open any dashboard yet.').waitFor();
    expect(await navLinks(guestPage)).toEqual([]);

    const grant = admin.getByRole('checkbox', { name: `task:view_all for ${role} in tracker` });
    expect(await grant.isChecked()).toBe(false);
    await grant.check();
    await admin.getByText(`Granted task:view_all to ${role} in Tracker.`).waitFor();
    expect(await grant.isEnabled()).toBe(true);
    await screenshot(admin, 'admin');

    await guestPage.reload();
    await guestPage.getByRole('region', { name: 'All tasks' }).getByText('Showing 4 tasks').waitFor();
    expect(await navLinks(guestPage)).toEqual(['Tracker']);
    // task:view_all only: no button to create a task (the role lacks task:create).
    expect(await guestPage.getByRole('button', { name: 'Create task' }).count()).toBe(0);
    await screenshot(guestPage, 'tracker-custom-role');

    await admin.setViewportSize(PHONE);
    await expectNoHorizontalOverflow(admin);
    await screenshot(admin, 'admin-375');
  });

  it('loaded nothing from another host and threw no error in any page', () => {
    const external = requested.filter((url) => {
      const { protocol, hostname } = new URL(url);
      return !(protocol === 'data:' || protocol === 'blob:' || hostname === '127.0.0.1');
    });
    expect(external).toEqual([]);
    expect(bed.pageErrors).toEqual([]);
  });
});
