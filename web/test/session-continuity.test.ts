import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, type TestUser } from '@popug/testing/people';
import { LogoutEverywhereDocument, SetUserActiveDocument, TasksDocument } from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * Sessions without lost work (issue 29, point 3), in Chromium against the whole system: a
 * session that ends keeps the page and what was typed, through a reload and the sign-in
 * after it; another user signing in there reads none of it; a session that cannot be renewed
 * warns before it runs out; a deactivated account is told so instead of being asked to sign in.
 */

const PASSWORD = 'correct horse battery';
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
const bed = browserBed(env);
let adminToken: string;

const call: typeof bed.call = (document, variables, token) => bed.call(document, variables, token);

async function signedInPage(user: Pick<TestUser, 'email'>, password = PASSWORD): Promise<Page> {
  const { page } = await bed.newPage();
  await signInThroughPage(page, bed.origin(), user.email, password);
  return page;
}

/** Every session of `user` ends, as when they sign out everywhere on another device. */
async function endSessionsElsewhere(user: Pick<TestUser, 'email'>, password = PASSWORD): Promise<void> {
  await call(LogoutEverywhereDocument, {}, await bed.system().login(user.email, password));
}

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');
const screenshot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

const drafts = (page: Page) => page.evaluate(() => JSON.stringify({ ...sessionStorage }));

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
});

afterEach(() => {
  expect(bed.pageErrors).toEqual([]);
});

describe('sessions without lost work, in Chromium', () => {
  it('keeps a half-typed task through an ended session and a reload; signed in again, it is created once', async () => {
    const worker = await hire(bed.system(), adminToken, PASSWORD, 'worker', 'typist');
    const page = await signedInPage(worker);
    await page.getByRole('button', { name: 'Create task' }).click();
    const form = page.getByRole('dialog', { name: 'Create task' });
    const title = `Water the ferns ${worker.id.slice(0, 8)}`;
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Description').fill('Only the big ones, twice.');

    await endSessionsElsewhere(worker);
    await form.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('dialog', { name: 'Your session has ended' }).waitFor();

    // The user reloads instead of signing in: the same page, the same dialog over it.
    await page.reload();
    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.waitFor();
    expect(new URL(page.url()).pathname).toBe('/tracker');
    expect(await dialog.getByLabel('Email').inputValue()).toBe(worker.email);

    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'detached' });
    // The draft kept, the page opens with the Create task dialog again.
    expect(await form.getByLabel('Title').inputValue()).toBe(title);
    expect(await form.getByLabel('Description').inputValue()).toBe('Only the big ones, twice.');

    await form.getByRole('button', { name: 'Create task' }).click();
    await form.getByText(`Created “${title}”`).waitFor();
    expect(await form.getByLabel('Title').inputValue()).toBe('');
    const { tasks } = await call(TasksDocument, { first: 500 }, adminToken);
    expect(tasks.filter((task) => task.title === title)).toHaveLength(1);
    expect(await drafts(page)).not.toContain('Water the ferns'); // sent: the draft is gone
  });

  it('lets nobody else read the draft: another user signing in over the ended session starts clean', async () => {
    const [first, second] = [await hire(bed.system(), adminToken, PASSWORD, 'worker', 'first'), await hire(bed.system(), adminToken, PASSWORD, 'worker', 'second')];
    const page = await signedInPage(first);
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('dialog', { name: 'Create task' }).getByLabel('Title').fill('Secret plans of the first');
    await endSessionsElsewhere(first);
    await page.reload();

    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.getByLabel('Email').fill(second.email);
    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('banner').getByText(second.name).waitFor();
    // No draft of theirs: no dialog opens by itself, and the form opens empty.
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    expect(await page.getByRole('dialog', { name: 'Create task' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Create task' }).click();
    expect(await page.getByRole('dialog', { name: 'Create task' }).getByLabel('Title').inputValue()).toBe('');
    expect(await drafts(page)).not.toContain('Secret plans');
  });

  it('warns minutes before a session it cannot renew runs out, and "Try now" renews it', async () => {
    const worker = await hire(bed.system(), adminToken, PASSWORD, 'worker', 'offline');
    const { page } = await bed.newPage();
    await page.clock.install();
    await signInThroughPage(page, bed.origin(), worker.email, PASSWORD);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();

    // The gateway cannot be reached for the renewal, 12 minutes into the 15-minute token.
    await page.route('**/session/refresh', (route) => route.abort('internetdisconnected'));
    await page.clock.fastForward('12:01');
    const notice = page.getByRole('status').filter({ hasText: 'Your session ends in 2 minutes.' });
    await notice.waitFor();
    await screenshot(page, 'session-ends-soon');
    await page.clock.fastForward('01:00');
    await page.getByRole('status').filter({ hasText: 'Your session ends in 1 minute.' }).waitFor();

    await page.unroute('**/session/refresh');
    const refreshed = page.waitForResponse((response) => new URL(response.url()).pathname === '/session/refresh');
    await page.getByRole('button', { name: 'Try now' }).click();
    expect((await refreshed).status()).toBe(200);
    await page.getByRole('button', { name: 'Try now' }).waitFor({ state: 'detached' });
    await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: 'Accounting' }).click();
    await page.getByRole('heading', { name: 'Accounting' }).first().waitFor();
  });

  it('tells a deactivated user their account was deactivated, with no sign-in to loop on, also after a reload', async () => {
    const worker = await hire(bed.system(), adminToken, PASSWORD, 'worker', 'leaver');
    const page = await signedInPage(worker);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();

    await call(SetUserActiveDocument, { userId: worker.id, active: false }, adminToken);
    await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: 'Accounting' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your account has been deactivated' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Password').count()).toBe(0);
    await screenshot(page, 'account-deactivated');
    expect(await page.getByText('Your session has ended').count()).toBe(0);

    await page.reload();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
  });

  it("keeps the admin's half-typed role name through an ended session", async () => {
    const admin = { email: env.ADMIN_EMAIL };
    const page = await signedInPage(admin, env.ADMIN_PASSWORD);
    await page.goto(`${bed.origin()}/admin`);
    await page.getByLabel('Role name').fill('auditor');
    await endSessionsElsewhere(admin, env.ADMIN_PASSWORD);
    await page.reload();

    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.getByLabel('Password').fill(env.ADMIN_PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'detached' });
    expect(await page.getByLabel('Role name').inputValue()).toBe('auditor');
  });
});
