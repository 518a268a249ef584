import { randomBytes } from 'node:crypto';
import type { Page } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { CreateTaskDocument, RegisterDocument, TasksDocument, UsersDocument } from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * Safe admin actions (issue 29, point 4) in Chromium: a role change to or from a powerful
 * role and a deactivation ask first in a modal dialog (focus kept inside, Escape cancels,
 * focus back on the control), then wait a few seconds with Undo before anything is sent;
 * a confirmed deactivation hands the popug's open tasks to the others at once.
 */

const PASSWORD = 'correct horse battery';
const RUN = randomBytes(3).toString('hex');
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
const bed = browserBed(env);
const { call } = bed;

let adminToken: string;
let admin: Page;
const ids = new Map<string, string>();
const nameOf = (label: string) => `${label} ${RUN}`;

async function register(label: string): Promise<string> {
  const { register: made } = await call(RegisterDocument, { email: `${label.toLowerCase()}-${RUN}@popug.test`, name: nameOf(label), password: PASSWORD });
  ids.set(label, made.id);
  return made.id;
}

/** auth's view of a user, as the server holds it. */
async function stored(label: string): Promise<{ role: string; active: boolean }> {
  const { users } = await call(UsersDocument, {}, adminToken);
  const user = users.find((listed) => listed.id === ids.get(label));
  if (!user) throw new Error(`${label} is not listed`);
  return { role: user.role, active: user.active };
}

const openTasksOf = async (label: string) => (await call(TasksDocument, { status: 'OPEN', assigneeId: ids.get(label) ?? null }, adminToken)).tasks;

const focusedIsInside = (page: Page, selector: string) => page.evaluate((inside) => Boolean(document.activeElement?.closest(inside)), selector);
const focusedLabel = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? '');

beforeAll(async () => {
  adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  // Cora is the only worker while the tasks are made, so all three are hers; then Dan and Eve join.
  await register('Cora');
  for (const title of ['Polish the perches', 'Count the seeds', 'Oil the swing']) {
    await waitFor(
      async () => (await bed.system().request(CreateTaskDocument.toString(), { title, description: `${title}, today.`, jiraId: null }, adminToken)).data ?? undefined,
      15_000,
      'Cora replicated into tracker',
    );
  }
  await register('Dan');
  await register('Eve');
  const { page } = await bed.newPage();
  admin = page;
  await signInThroughPage(admin, bed.origin(), env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  await admin.goto(`${bed.origin()}/admin`);
  await admin.getByLabel(`Role of ${nameOf('Eve')}`).waitFor();
  // The permission tables tell the page which roles are powerful.
  await admin.getByRole('checkbox', { name: 'user:manage for admin in auth' }).waitFor();
}, 60_000);

afterEach(() => expect(bed.pageErrors).toEqual([]));

test('a role change to admin and a deactivation ask first; Escape and Undo change nothing on the server', async () => {
  const roleOfDan = admin.getByLabel(`Role of ${nameOf('Dan')}`);

  // An ordinary change applies at once, as before.
  await roleOfDan.selectOption('accountant');
  await admin.getByText(`${nameOf('Dan')} is now accountant.`).waitFor();
  expect(await admin.getByRole('alertdialog').count()).toBe(0);
  expect(await stored('Dan')).toEqual({ role: 'accountant', active: true });

  // To admin: the dialog says what admin may do; focus is inside and stays inside; Escape cancels.
  await roleOfDan.selectOption('admin');
  const dialog = admin.getByRole('alertdialog', { name: `Make ${nameOf('Dan')} admin?` });
  await dialog.getByText('As admin they may manage users, change permissions, see every task, and shuffle every task.').waitFor();
  expect(await focusedIsInside(admin, 'dialog')).toBe(true);
  for (const key of ['Tab', 'Tab', 'Tab', 'Shift+Tab', 'Shift+Tab', 'Shift+Tab']) {
    await admin.keyboard.press(key);
    expect({ key, inside: await focusedIsInside(admin, 'dialog') }).toEqual({ key, inside: true });
  }
  await admin.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  expect(await focusedLabel(admin)).toBe(`Role of ${nameOf('Dan')}`);
  expect(await roleOfDan.inputValue()).toBe('accountant');

  // Confirmed, then undone within the window.
  await roleOfDan.selectOption('admin');
  await dialog.getByRole('button', { name: `Make ${nameOf('Dan')} admin` }).click();
  const toast = admin.getByRole('status').filter({ hasText: `${nameOf('Dan')} made admin` });
  await toast.waitFor();
  expect(await focusedLabel(admin)).toBe(`Role of ${nameOf('Dan')}`);
  expect(await roleOfDan.inputValue()).toBe('admin');
  await toast.getByRole('button', { name: 'Undo' }).click();
  await admin.getByText(`Undone: ${nameOf('Dan')} stays accountant. Nothing was sent.`).waitFor();
  expect(await roleOfDan.inputValue()).toBe('accountant');

  // Deactivation: the dialog counts Cora's open tasks and says where they go; Undo keeps her.
  const coraActive = admin.getByRole('switch', { name: `${nameOf('Cora')} is active` });
  await coraActive.click();
  const deactivate = admin.getByRole('alertdialog', { name: `Deactivate ${nameOf('Cora')}?` });
  await deactivate.getByText(/Their 3 open tasks go at once to random active popugs who may receive tasks \(2 popugs\)/).waitFor();
  await deactivate.getByRole('button', { name: 'Cancel' }).click();
  await deactivate.waitFor({ state: 'detached' });
  expect(await focusedLabel(admin)).toBe(`${nameOf('Cora')} is active`);
  expect(await coraActive.isChecked()).toBe(true);

  await coraActive.click();
  await deactivate.getByRole('button', { name: `Deactivate ${nameOf('Cora')}` }).click();
  const undoCora = admin.getByRole('status').filter({ hasText: `${nameOf('Cora')} deactivated` });
  await undoCora.getByRole('button', { name: 'Undo' }).click();
  await admin.getByText(`Undone: ${nameOf('Cora')} stays active. Nothing was sent.`).waitFor();

  // Past both windows: nothing reached the server.
  await new Promise((resolve) => setTimeout(resolve, 6_500));
  expect(await stored('Dan')).toEqual({ role: 'accountant', active: true });
  expect(await stored('Cora')).toEqual({ role: 'worker', active: true });
  expect(await openTasksOf('Cora')).toHaveLength(3);
});

test('a confirmed deactivation is sent when the window ends and hands the open tasks to the others at once', async () => {
  const coraActive = admin.getByRole('switch', { name: `${nameOf('Cora')} is active` });
  await coraActive.click();
  await admin.getByRole('button', { name: `Deactivate ${nameOf('Cora')}` }).click();
  await admin.getByText(`${nameOf('Cora')} is now deactivated.`).waitFor({ timeout: 12_000 });
  expect(await stored('Cora')).toEqual({ role: 'worker', active: false });
  await waitFor(async () => ((await openTasksOf('Cora')).length === 0 ? true : undefined), 15_000, "Cora's open tasks reassigned");
  const { tasks } = await call(TasksDocument, { status: 'OPEN' }, adminToken);
  // Dan is an accountant now (who receives tasks too), Eve a worker.
  expect(new Set(tasks.map((task) => task.assignee.id)).size).toBeGreaterThan(0);
  expect(tasks.every((task) => [ids.get('Dan'), ids.get('Eve')].includes(task.assignee.id))).toBe(true);
});

test('a confirmed change still waiting is sent at once when the admin leaves the page', async () => {
  await admin.getByLabel(`Role of ${nameOf('Eve')}`).selectOption('manager');
  await admin.getByRole('button', { name: `Make ${nameOf('Eve')} manager` }).click();
  await admin.getByRole('status').filter({ hasText: `${nameOf('Eve')} made manager` }).waitFor();
  await admin.goto(`${bed.origin()}/tracker`);
  await waitFor(async () => ((await stored('Eve')).role === 'manager' ? true : undefined), 5_000, 'the change sent as the page went away');
});
