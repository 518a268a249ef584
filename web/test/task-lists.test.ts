import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page, Request, Route } from 'playwright-core';
import { openDatabase } from '@popug/lib/db/orm';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { trackerDatabase } from '../../subgraphs/tracker/database';
import { seedOpenTasks } from '../../subgraphs/tracker/services/task-seeding';
import { CreateTaskDocument, RegisterDocument, SetUserRoleDocument } from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * The tracker's lists on 500 tasks, in Chromium: "Showing 50 of 503", Show more (one read of
 * the next 50 after the last shown, as far as the list goes: all 503, none twice), a search
 * by title and by jira id kept in the address (reload and Back show it again), every order,
 * the assignee filter over the whole directory, descriptions cut at three lines with a link
 * to the task's page, and that page with the whole description and the money history. The
 * 500 are seeded by the tracker's own set-based seeding (task.created and task.assigned in
 * the outbox, as createTask writes them); three more are created through the API.
 */

const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');
const PASSWORD = 'correct horse battery';
const RUN = randomBytes(3).toString('hex');
const SEEDED = 500;
const LONG_DESCRIPTION = ['First line of the plan.', 'Second line.', 'Third line.', 'Fourth line, hidden in the list.', 'Fifth line: the end.'].join('\n');

const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
const bed = browserBed(env);

const worker = { name: `Alice ${RUN}`, email: `alice-${RUN}@popug.test` };
const colleague = { name: `Bob ${RUN}`, email: `bob-${RUN}@popug.test` };
const manager = { name: `Mona ${RUN}`, email: `mona-${RUN}@popug.test` };
let workerId: string;
let colleagueId: string;
let longTaskId: string;
let total: number;
/** Open tasks of each worker: the seeded ones, and those of the created three that went to them. */
let aliceOpen: number;
let bobOpen: number;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  const adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
  const register = (user: { name: string; email: string }) => bed.call(RegisterDocument, { ...user, password: PASSWORD });
  workerId = (await register(worker)).register.id;
  colleagueId = (await register(colleague)).register.id;
  const managerId = (await register(manager)).register.id;
  await bed.call(SetUserRoleDocument, { userId: managerId, role: 'manager' }, adminToken);
  const managerToken = await bed.system().login(manager.email, PASSWORD);
  const orm = await openDatabase(env, trackerDatabase);
  try {
    // The workers reach the tracker's directory through the replicator: then tasks may go to them.
    await waitFor(
      async () => {
        const [row] = await orm.em.fork().execute<{ known: number }[]>('select count(*)::int as known from users where id = any(?::uuid[])', [
          `{${workerId},${colleagueId}}`,
        ]);
        return row?.known === 2 ? true : undefined;
      },
      20_000,
      'the workers in the tracker’s directory',
    );
    await seedOpenTasks(orm.em.fork(), { count: SEEDED - 100, assigneeIds: [workerId], label: 'Bulk' });
    await seedOpenTasks(orm.em.fork(), { count: 100, assigneeIds: [colleagueId], label: 'Bobs' });
  } finally {
    await orm.close();
  }
  const created = await Promise.all(
    [
      { title: 'Aardvark enclosure plan', description: LONG_DESCRIPTION, jiraId: 'ZOO-1' },
      { title: 'Zebra crossing paint', description: 'Stripes.', jiraId: 'ZOO-2' },
      { title: 'Feed the parrots', description: 'Seeds.', jiraId: null },
    ].map((task) => bed.call(CreateTaskDocument, task, managerToken)),
  );
  longTaskId = created[0]!.createTask.id;
  total = SEEDED + created.length;
  const landedOn = (id: string) => created.filter(({ createTask }) => createTask.assignee.id === id).length;
  aliceOpen = SEEDED - 100 + landedOn(workerId);
  bobOpen = 100 + landedOn(colleagueId);
}, 60_000);

afterEach(() => {
  expect(bed.pageErrors).toEqual([]);
});

async function openTracker(user: { email: string }, path = '/tracker'): Promise<Page> {
  const { page } = await bed.newPage();
  await signInThroughPage(page, bed.origin(), user.email, PASSWORD);
  await page.goto(`${bed.origin()}${path}`);
  return page;
}

const titlesIn = (list: Locator) => list.locator('.task-title a').allTextContents();
/** The ids of the tasks a list shows, in order, from their links (/tracker/tasks/<id>). */
const idsIn = async (list: Locator) => (await list.locator('.task-title a').evaluateAll((links) => links.map((link) => link.getAttribute('href') ?? ''))).map((href) => href.split('/').pop());

/** The variables of every `operation` the page sends from now on (a list's reads). */
function readsOf(page: Page, operation: string): Record<string, unknown>[] {
  const reads: Record<string, unknown>[] = [];
  page.on('request', (request: Request) => {
    const body = request.postDataJSON() as { operationName?: string; variables?: Record<string, unknown> } | null;
    if (body?.operationName === operation) reads.push(body.variables ?? {});
  });
  return reads;
}

/**
 * Clicks "Show N more" until the list shows all `total`; then each click must have sent one
 * read of the next page: `first: 50` after the task that was last.
 */
async function pageToTheEnd(list: Locator, reads: Record<string, unknown>[], total: number, noun: string) {
  const lastIds: unknown[] = [];
  for (let shown = (await idsIn(list)).length; shown < total; shown += 50) {
    lastIds.push((await idsIn(list)).at(-1));
    await list.getByRole('button', { name: `Show ${Math.min(50, total - shown)} more` }).click();
    const next = Math.min(shown + 50, total);
    await list.getByText(next < total ? `Showing ${next} of ${total} ${noun}s, newest first.` : `Showing ${total} ${noun}s, newest first.`).waitFor();
  }
  expect(await list.getByRole('button', { name: /^Show \d+ more$/ }).count()).toBe(0);
  expect(reads).toEqual(lastIds.map((after) => expect.objectContaining({ first: 50, after })));
}

describe('All tasks on 500 tasks', () => {
  let page: Page;
  let allTasks: Locator;

  beforeAll(async () => {
    page = await openTracker(manager);
    allTasks = page.getByRole('region', { name: 'All tasks' });
  });

  it('shows the total and pages with Show more', async () => {
    await allTasks.getByText(`Showing 50 of ${total} tasks, newest first.`).waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'tracker-500-tasks.png') });
    await allTasks.getByRole('button', { name: 'Show 50 more' }).click();
    await allTasks.getByText(`Showing 100 of ${total} tasks, newest first.`).waitFor();
    expect(await allTasks.locator('.task').count()).toBe(100);
  });

  it('asks for the next 50 after the last task shown, not for everything again', async () => {
    const reads = readsOf(page, 'AllTaskList');
    const lastId = (await idsIn(allTasks)).at(-1);
    await allTasks.getByRole('button', { name: 'Show 50 more' }).click();
    await allTasks.getByText(`Showing 150 of ${total} tasks, newest first.`).waitFor();
    expect(reads).toEqual([expect.objectContaining({ first: 50, after: lastId })]);
  });

  it('reaches every one of the 503 tasks, past the server’s page limit of 500, none twice', async () => {
    await pageToTheEnd(allTasks, readsOf(page, 'AllTaskList'), total, 'task');
    const ids = await idsIn(allTasks);
    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    const titles = await titlesIn(allTasks);
    expect(new Set(titles).size).toBe(total);
    // Newest first: the 500 seeded before the three created, the oldest seeded last.
    expect(titles.slice(0, 3).sort()).toEqual(['Aardvark enclosure plan', 'Feed the parrots', 'Zebra crossing paint']);
    expect(titles.at(-1)).toBe('Bulk task 1');
  });

  it('reads what is shown again when the page catches up: the pages from the first, none twice', async () => {
    const reads = readsOf(page, 'AllTaskList');
    const ids = await idsIn(allTasks);
    // What a reconnected live stream or a tab coming back does (../src/api/catch-up.ts).
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await waitFor(async () => (reads.length === 2 ? true : undefined), 5_000, 'the catch-up’s reads');
    await allTasks.getByText(`Showing ${total} tasks, newest first.`).waitFor();
    expect(reads).toEqual([expect.objectContaining({ first: 500, after: null }), expect.objectContaining({ first: 3, after: ids[499] })]);
    expect(await idsIn(allTasks)).toEqual(ids);
  });

  it('searches titles and jira ids, keeping the search in the address through a reload', async () => {
    await allTasks.getByLabel('Search all tasks').fill('BULK TASK 12');
    // Bulk task 12 and 120..129
    await allTasks.getByText('Showing 11 tasks, newest first.').waitFor();
    expect(new URL(page.url()).searchParams.get('q')).toBe('BULK TASK 12');
    await page.reload();
    await allTasks.getByText('Showing 11 tasks, newest first.').waitFor();
    expect(await allTasks.getByLabel('Search all tasks').inputValue()).toBe('BULK TASK 12');

    await allTasks.getByLabel('Search all tasks').fill('zoo-');
    await allTasks.getByText('Showing 2 tasks, newest first.').waitFor();
    expect((await titlesIn(allTasks)).sort()).toEqual(['Aardvark enclosure plan', 'Zebra crossing paint']);
  });

  it('sorts by title and oldest first, each kept in the address (Back restores the order)', async () => {
    await allTasks.getByLabel('Search all tasks').fill('');
    await allTasks.getByText(`Showing 50 of ${total} tasks, newest first.`).waitFor();
    await allTasks.getByLabel('Sort').selectOption('TITLE');
    await allTasks.getByText(`Showing 50 of ${total} tasks, title a–z.`).waitFor();
    expect((await titlesIn(allTasks)).slice(0, 3)).toEqual(['Aardvark enclosure plan', 'Bobs task 1', 'Bobs task 10']);
    expect(new URL(page.url()).searchParams.get('sort')).toBe('TITLE');

    await allTasks.getByLabel('Sort').selectOption('OLDEST');
    await allTasks.getByText(`Showing 50 of ${total} tasks, oldest first.`).waitFor();
    expect((await titlesIn(allTasks))[0]).toBe('Bulk task 1');
    await page.goBack();
    await allTasks.getByText(`Showing 50 of ${total} tasks, title a–z.`).waitFor();
  });

  it('filters by any popug of the directory, found by name', async () => {
    await allTasks.getByLabel('Find a popug').fill(`bob ${RUN}`);
    await waitFor(async () => ((await allTasks.getByLabel('Assignee').locator('option').count()) === 2 ? true : undefined), 5_000, 'Bob offered');
    await allTasks.getByLabel('Assignee').selectOption({ label: colleague.name });
    await allTasks.getByText(`Showing 50 of ${bobOpen} tasks, title a–z.`).waitFor();
    expect(new URL(page.url()).searchParams.get('assignee')).toBe(colleagueId);
    expect((await allTasks.locator('.task-meta').allTextContents()).every((meta) => meta.includes(colleague.name))).toBe(true);
    await allTasks.getByLabel('Assignee').selectOption('');
    await allTasks.getByText(`Showing 50 of ${total} tasks, title a–z.`).waitFor();
  });

  it('cuts a description at three lines and opens the task’s page with all of it; Back returns to the list', async () => {
    const card = allTasks.locator('.task', { hasText: 'Aardvark enclosure plan' });
    const description = card.locator('.task-description');
    expect(await description.evaluate((element) => getComputedStyle(element).webkitLineClamp)).toBe('3');
    expect(await description.evaluate((element) => element.scrollHeight > element.clientHeight)).toBe(true);
    await card.getByRole('link', { name: 'Open “Aardvark enclosure plan”: full description and history' }).click();
    await page.waitForURL((url) => url.pathname === `/tracker/tasks/${longTaskId}`);
    await page.getByRole('heading', { level: 1, name: 'ZOO-1 Aardvark enclosure plan' }).waitFor();
    await page.getByText('Fifth line: the end.').waitFor();
    // The page's own address loads it too (the gateway answers /tracker/* with the app).
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'ZOO-1 Aardvark enclosure plan' }).waitFor();
    const history = page.getByRole('region', { name: 'History' });
    await history.getByText('Created').waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'tracker-task-page.png'), fullPage: true });
    await page.goBack();
    await allTasks.getByText(`Showing 50 of ${total} tasks, title a–z.`).waitFor();
  });

  it('fits the list and the task page on a 360 px phone', async () => {
    await page.setViewportSize({ width: 360, height: 780 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'tracker-500-tasks-360.png') });
    await page.goto(`${bed.origin()}/tracker/tasks/${longTaskId}`);
    await page.getByText('Fifth line: the end.').waitFor();
    expect(await overflow()).toBeLessThanOrEqual(0);
  });
});

describe('My tasks on 400 tasks and more', () => {
  it('pages, searches and opens a task with its own fee in the history', async () => {
    const page = await openTracker(worker);
    const myTasks = page.getByRole('region', { name: 'My tasks' });
    await myTasks.getByRole('button', { name: `Open (${aliceOpen})` }).waitFor();
    await myTasks.getByText(`Showing 50 of ${aliceOpen} open tasks, newest first.`).waitFor();
    await myTasks.getByRole('button', { name: 'Show 50 more' }).click();
    await myTasks.getByText(`Showing 100 of ${aliceOpen} open tasks, newest first.`).waitFor();
    // A page that does not come says so and keeps the list; the button asks again.
    const refuseNextPage = (route: Route) => (route.request().postData()?.includes('"after":"') ? route.abort('internetdisconnected') : route.continue());
    await page.route('**/graphql', refuseNextPage);
    await myTasks.getByRole('button', { name: 'Show 50 more' }).click();
    await myTasks.getByRole('alert').waitFor();
    expect(await myTasks.locator('.task').count()).toBe(100);
    await page.unroute('**/graphql', refuseNextPage);
    await myTasks.getByRole('button', { name: 'Show 50 more' }).click();
    await myTasks.getByText(`Showing 150 of ${aliceOpen} open tasks, newest first.`).waitFor();
    expect(await myTasks.getByRole('alert').count()).toBe(0);
    await pageToTheEnd(myTasks, readsOf(page, 'MyTaskList'), aliceOpen, 'open task');
    const ids = await idsIn(myTasks);
    expect(new Set(ids).size).toBe(aliceOpen);
    expect((await titlesIn(myTasks)).filter((title) => title.startsWith('Bulk task'))).toHaveLength(SEEDED - 100);
    await myTasks.getByLabel('Search my tasks').fill('seed-7');
    // SEED-7 and SEED-70..79 (each seeding numbers its jira ids on from the last).
    await myTasks.getByText('Showing 11 open tasks, newest first.').waitFor();
    expect(new URL(page.url()).searchParams.get('my-q')).toBe('seed-7');

    const first = myTasks.locator('.task').first();
    const title = (await first.locator('.task-title a').textContent()) ?? '';
    await first.locator('.task-title a').click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    // The fee this worker paid, booked by accounting once the replicator brought the event.
    const history = page.getByRole('region', { name: 'History' });
    await waitFor(
      async () => {
        if ((await history.getByText(`Assigned to ${worker.name}`).count()) > 0) return true;
        await page.reload();
        return undefined;
      },
      20_000,
      'the fee in the task’s history',
      500,
    );
    expect(await history.locator('li', { hasText: `Assigned to ${worker.name}` }).textContent()).toMatch(/fee \$\d+\.\d\d/);
  });
});
