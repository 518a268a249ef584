import type { Page, Request } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, signInAdmin, type TestUser } from '@popug/testing/people';
import { CreateTaskDocument, SetTrackerPermissionDocument } from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * The tracker page's frame and the small things around it (issue 29, points 6, 7 and 8), in
 * Chromium: what the first paint costs, the Create task dialog, notices that do not go
 * stale, focus after the shuffle dialog, aligned inputs, the audit log scrolled to, the
 * landing page's account links and the app's own 404 page.
 */
const PASSWORD = 'correct horse battery';
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
const bed = browserBed(env);

let origin: string;
let admin: TestUser;
let manager: TestUser;
let worker: TestUser;

beforeAll(async () => {
  origin = bed.origin();
  admin = await signInAdmin(bed.system(), env);
  manager = await hire(bed.system(), admin.token, PASSWORD, 'manager');
  worker = await hire(bed.system(), admin.token, PASSWORD, 'worker');
});

afterAll(() => {
  expect(bed.pageErrors).toEqual([]);
});

interface Sent {
  /** When the browser told us it sent it, and when its answer came (this machine's clock). */
  at: number;
  answeredAt?: number;
  operation: string;
  stream: boolean;
}

/** Every request the page sends to the API: /graphql and /session/*. */
function apiRequests(page: Page): Sent[] {
  const sent: Sent[] = [];
  const byRequest = new Map<Request, Sent>();
  page.on('request', (request: Request) => {
    const { pathname } = new URL(request.url());
    if (pathname !== '/graphql' && !pathname.startsWith('/session/')) return;
    const body = request.postDataJSON() as { operationName?: string } | null;
    const one = { at: Date.now(), operation: `${pathname}${body?.operationName ? ` ${body.operationName}` : ''}`, stream: request.headers().accept === 'text/event-stream' };
    sent.push(one);
    byRequest.set(request, one);
  });
  page.on('requestfinished', (request: Request) => {
    const one = byRequest.get(request);
    if (one) one.answeredAt = Date.now();
  });
  return sent;
}

/**
 * The round the tracker's first paint is made of: the requests sent after `after` until the
 * first answer to one of the lists (MyTasks, Tasks) arrives, but the live stream. Whatever
 * is sent later (the stream's catch-up reads, ../src/api/catch-up.ts) is a second round.
 */
async function firstRound(page: Page, sent: Sent[], after: number): Promise<string[]> {
  await page.getByRole('region', { name: 'All tasks' }).getByText(/^Showing|^No tasks match/).waitFor();
  await page.getByRole('region', { name: 'My tasks' }).getByRole('group', { name: 'Show tasks' }).waitFor();
  const lists = sent.filter(({ at, operation }) => at > after && /(MyTaskList|AllTaskList)$/.test(operation));
  const firstAnswer = Math.min(...lists.map(({ answeredAt }) => answeredAt ?? Infinity));
  return sent.filter(({ at, stream }) => !stream && at > after && at < firstAnswer).map(({ operation }) => operation);
}

const mutations = (sent: Sent[]) => sent.map(({ operation }) => operation).filter((operation) => /(Create|Complete|Shuffle|Set)\w*$/.test(operation));

describe('the tracker page', () => {
  /**
   * Counts every request to /graphql and /session/* that the page sends from the sign-in (or
   * the reload) until the first list's answer arrives, except the TaskUpdates stream (Accept:
   * text/event-stream), which the paint does not wait for. A manager is the costliest caller:
   * both lists. On main: `me`, eight access probes and a CreateTask probe.
   */
  it('paints after sign-in and after a reload in one round: at most 3 requests, no mutation', async () => {
    const { page } = await bed.newPage();
    const sent = apiRequests(page);
    await signInThroughPage(page, origin, manager.email, PASSWORD);
    const signIn = sent.find(({ operation }) => operation === '/graphql SignIn');
    if (!signIn) throw new Error(`no sign-in among ${sent.map(({ operation }) => operation).join(', ')}`);
    const afterSignIn = await firstRound(page, sent, signIn.at);
    expect(afterSignIn.length).toBeLessThanOrEqual(3);
    expect(afterSignIn.sort()).toEqual(['/graphql AllTaskList', '/graphql MyTaskList', '/graphql Start']);

    const reloadedAt = Date.now();
    const refreshAsked = page.waitForRequest((request) => new URL(request.url()).pathname === '/session/refresh');
    await page.reload();
    await refreshAsked;
    // From the new document's first request: the old one may still send its catch-up reads as it goes.
    const loadStart = sent.find(({ at, operation }) => at >= reloadedAt && operation === '/session/refresh');
    if (!loadStart) throw new Error('the reloaded page asked for no session');
    const afterReload = await firstRound(page, sent, loadStart.at - 1);
    expect(afterReload.length).toBeLessThanOrEqual(3);
    // The refresh runs the Start document with the token it mints (?then=Start): one request.
    expect(afterReload.sort()).toEqual(['/graphql AllTaskList', '/graphql MyTaskList', '/session/refresh']);
    expect(mutations(sent)).toEqual([]);
  });

  it('gives a role the admin made, holding only task:create, the tracker with its Create task button, asking nothing by mutation', async () => {
    const scribe = await hire(bed.system(), admin.token, PASSWORD, 'scribe');
    await bed.call(SetTrackerPermissionDocument, { role: 'scribe', permission: 'task:create', granted: true }, admin.token);
    const { page } = await bed.newPage();
    const sent = apiRequests(page);
    await signInThroughPage(page, origin, scribe.email, PASSWORD);
    await page.waitForURL((url) => url.pathname === '/tracker');
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link').allTextContents()).toEqual(['Tracker']);
    await page.getByRole('button', { name: 'Create task' }).click();
    await page.getByRole('dialog', { name: 'Create task' }).waitFor();
    expect(await page.getByRole('heading', { name: 'All tasks' }).count()).toBe(0);
    expect(mutations(sent)).toEqual([]);
  });

  it('puts My tasks first and creates a task in an accessible dialog: focus kept inside, Escape closes, focus back on the button', async () => {
    const { page } = await bed.newPage();
    await signInThroughPage(page, origin, manager.email, PASSWORD);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    const sections = await page.locator('main h2').allTextContents();
    expect(sections[0]).toBe('My tasks');
    expect(await page.getByRole('heading', { name: 'New task' }).count()).toBe(0);

    const open = page.getByRole('button', { name: 'Create task' });
    await open.click();
    const dialog = page.getByRole('dialog', { name: 'Create task' });
    await dialog.waitFor();
    expect(await dialog.getByLabel('Title').evaluate((input) => input === document.activeElement)).toBe(true);
    const focusInside = () => dialog.evaluate((element) => element.contains(document.activeElement));
    for (let step = 0; step < 8; step += 1) {
      await page.keyboard.press('Tab');
      expect(await focusInside()).toBe(true);
    }
    for (let step = 0; step < 8; step += 1) {
      await page.keyboard.press('Shift+Tab');
      expect(await focusInside()).toBe(true);
    }
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    expect(await open.evaluate((button) => button === document.activeElement)).toBe(true);

    // Title and Jira id stay on one line when only the title shows an error.
    await open.click();
    await dialog.getByRole('button', { name: 'Create task' }).click();
    await dialog.getByText('Enter a title.').waitFor();
    const [title, jiraId] = await Promise.all([dialog.getByLabel('Title').boundingBox(), dialog.getByLabel('Jira id (optional)').boundingBox()]);
    expect(jiraId?.y).toBe(title?.y);
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await open.evaluate((button) => button === document.activeElement)).toBe(true);
  });

  it('clears the “Created …, assigned to …” notice: it goes with the dialog, and a shuffle finds none', async () => {
    const { page } = await bed.newPage();
    await signInThroughPage(page, origin, manager.email, PASSWORD);
    await page.getByRole('button', { name: 'Create task' }).click();
    const dialog = page.getByRole('dialog', { name: 'Create task' });
    await dialog.getByLabel('Title').fill('Carry the seeds');
    await dialog.getByLabel('Description').fill('From the barn to the cage.');
    await dialog.getByRole('button', { name: 'Create task' }).click();
    const created = page.getByText(/^Created “Carry the seeds”, assigned to/);
    await created.waitFor();
    await dialog.getByRole('button', { name: 'Close' }).click();
    expect(await created.count()).toBe(0);

    const allTasks = page.getByRole('region', { name: 'All tasks' });
    const shuffle = allTasks.getByRole('button', { name: 'Shuffle tasks' });
    await shuffle.click();
    await page.getByRole('alertdialog', { name: 'Shuffle every open task?' }).getByRole('button', { name: 'Yes, shuffle' }).click();
    await allTasks.getByText(/^Shuffled: /).waitFor();
    expect(await created.count()).toBe(0);
    await page.getByRole('button', { name: 'Create task' }).click();
    expect(await page.getByText(/^Created “/).count()).toBe(0);
  });

  it('gives the focus back to Shuffle tasks when its dialog closes, by Cancel, by Escape or by shuffling', async () => {
    await bed.call(CreateTaskDocument, { title: 'Polish the perch', description: 'Both ends.', jiraId: null }, admin.token);
    const { page } = await bed.newPage();
    await signInThroughPage(page, origin, manager.email, PASSWORD);
    const allTasks = page.getByRole('region', { name: 'All tasks' });
    const shuffle = allTasks.getByRole('button', { name: 'Shuffle tasks' });
    const confirm = page.getByRole('alertdialog', { name: 'Shuffle every open task?' });
    const shuffleFocused = () => shuffle.evaluate((button) => button === document.activeElement);

    await shuffle.click();
    await confirm.getByRole('button', { name: 'Cancel' }).click();
    expect(await shuffleFocused()).toBe(true);

    await shuffle.click();
    await page.keyboard.press('Escape');
    await confirm.waitFor({ state: 'detached' });
    expect(await shuffleFocused()).toBe(true);

    await shuffle.click();
    await confirm.getByRole('button', { name: 'Yes, shuffle' }).click();
    await allTasks.getByText(/^Shuffled: /).waitFor();
    expect(await shuffleFocused()).toBe(true);
  });
});

describe('around the dashboards', () => {
  it('scrolls to the audit log that “Audit log” opens below All accounts, and focuses its heading', async () => {
    const { page } = await bed.newPage({ viewport: { width: 1280, height: 600 } });
    await signInThroughPage(page, origin, env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    await page.goto(`${origin}/accounting`);
    const accounts = page.getByRole('region', { name: 'All accounts' }).first();
    const open = page.getByRole('button', { name: `Audit log of ${worker.name}` });
    await open.scrollIntoViewIfNeeded();
    await open.click();
    const heading = page.getByRole('heading', { name: new RegExp(`^${worker.name}: `) });
    await heading.waitFor();
    await page.waitForFunction(() => document.activeElement?.tagName === 'H3');
    expect(await heading.evaluate((element) => element === document.activeElement)).toBe(true);
    const box = await heading.boundingBox();
    expect(box && box.y >= 0 && box.y + box.height <= 600).toBe(true);
    expect(await accounts.count()).toBe(1);
  });

  it('links the landing page to Sign in and Create account', async () => {
    const { page } = await bed.newPage();
    await page.goto(`${origin}/`);
    expect(await page.getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe('/login');
    expect(await page.getByRole('link', { name: 'Create account' }).getAttribute('href')).toBe('/register');
    await page.getByRole('link', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Create an account' }).waitFor();
  });

  it('answers an unknown page with the app’s own “Page not found” and status 404, signed in or not; known pages stay 200', async () => {
    const { page } = await bed.newPage();
    const missing = await page.goto(`${origin}/nowhere`);
    expect(missing?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/nowhere');
    expect(await page.getByRole('link', { name: 'start page' }).getAttribute('href')).toBe('/');

    await signInThroughPage(page, origin, worker.email, PASSWORD);
    const signedIn = await page.goto(`${origin}/nowhere/at/all`);
    expect(signedIn?.status()).toBe(404);
    await page.getByRole('heading', { name: 'Page not found' }).waitFor();
    await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: 'Tracker' }).waitFor();
    expect((await page.goto(`${origin}/tracker`))?.status()).toBe(200);
  });
});
