import { openDatabase, type MikroORM } from '@popug/lib/db/orm';
import { contractOperation } from '../../../testing/contract';
import { trackerDatabase } from '../database';
import { seedOpenTasks } from '../services/task-seeding';
import { OPS, dataOf, refusal, startTestbed, type TaskView, type Testbed, type TestUser } from './tracker-testkit';

/**
 * Task lists for hundreds of tasks, through the gateway: a search in title and jira id that
 * ignores case, every order, keyset pages that visit each task once, totals that agree with
 * the lists, the assignee filter over the whole directory, and who may ask for what. myTasks
 * without first and after stays the whole list, as the contract's MyTasks documents.
 */

const LIST = {
  mine: contractOperation('MyTaskList'),
  all: contractOperation('AllTaskList'),
  assignees: contractOperation('TaskAssignees'),
};

type Sort = 'NEWEST' | 'OLDEST' | 'TITLE' | 'STATUS';
interface AllPage {
  tasks: TaskView[];
  taskCount: number;
}
interface MyPage {
  myTasks: TaskView[];
  open: number;
  done: number;
}

let bed: Testbed;
let orm: MikroORM;
let manager: TestUser;
let worker: TestUser;
let colleague: TestUser;
/** Every task of the file, as stored. */
let stored: { id: string; title: string; jira_id: string | null; status: string; assignee_id: string; created_at: Date }[];

const SEEDED = 120;

beforeAll(async () => {
  bed = await startTestbed({ replicator: false });
  orm = await openDatabase(bed.env, trackerDatabase);
  manager = await bed.user('manager');
  worker = await bed.user('worker', 'Zed');
  colleague = await bed.user('worker', 'Abe');
  await bed.replicateUsers([manager, worker, colleague]);
  await seedOpenTasks(orm.em.fork(), { count: SEEDED, assigneeIds: [worker.id, colleague.id], label: 'Bulk' });
  // A few with words and ids to find, among the seeded ones.
  for (const [title, jiraId] of [
    ['Feed the Parrots', 'ZOO-7'],
    ['Clean the cage', 'ZOO-8'],
    ['Order parrot food', null],
    ['100% done_ish', 'PCT-1'],
  ] as const) {
    dataOf(await bed.system.request(OPS.createTask, { title, description: 'd', jiraId }, manager.token));
  }
  // Some done tasks for STATUS, completed by their assignees.
  const { rows } = await bed.tracker.query<{ id: string; assignee_id: string }>(
    "select id, assignee_id from tasks where title like 'Bulk task %' order by created_at limit 10",
  );
  for (const row of rows) {
    const assignee = row.assignee_id === worker.id ? worker : colleague;
    dataOf(await bed.system.request(OPS.completeTask, { id: row.id }, assignee.token));
  }
  stored = (await bed.tracker.query('select id, title, jira_id, status, assignee_id, created_at from tasks')).rows;
}, 60_000);

afterAll(async () => {
  await orm?.close();
  await bed?.close();
});

const allPage = async (variables: Record<string, unknown>, token = manager.token) =>
  dataOf(await bed.system.request<AllPage>(LIST.all, variables, token));

/** Walks every page of a list, `first` at a time, and returns the ids in order. */
async function walk(variables: Record<string, unknown>, first: number): Promise<string[]> {
  const ids: string[] = [];
  for (let after: string | null = null; ; ) {
    const page: AllPage = await allPage({ ...variables, first, after });
    ids.push(...page.tasks.map((task) => task.id));
    if (page.tasks.length < first) return ids;
    after = page.tasks.at(-1)?.id ?? null;
  }
}

/** The expected order of every task, computed here from the stored rows. */
function expectedOrder(sort: Sort, rows = stored): string[] {
  const byNewest = (a: (typeof stored)[number], b: (typeof stored)[number]) =>
    b.created_at.getTime() - a.created_at.getTime() || (b.id > a.id ? 1 : -1);
  const compare: Record<Sort, (a: (typeof stored)[number], b: (typeof stored)[number]) => number> = {
    NEWEST: byNewest,
    OLDEST: (a, b) => -byNewest(a, b),
    TITLE: (a, b) => {
      const [x, y] = [a.title.toLowerCase(), b.title.toLowerCase()];
      // PostgreSQL's C collation (the test database's): byte order.
      return x < y ? -1 : x > y ? 1 : a.id < b.id ? -1 : 1;
    },
    STATUS: (a, b) => (a.status === b.status ? byNewest(a, b) : a.status === 'OPEN' ? -1 : 1),
  };
  return [...rows].sort(compare[sort]).map((row) => row.id);
}

describe('All tasks: search, sort, pages and totals', () => {
  it('finds tasks by title or jira id, ignoring case, with the total of matches', async () => {
    const titles = async (search: string) => (await allPage({ search, first: 500 })).tasks.map((task) => task.title).sort();
    expect(await titles('PARROT')).toEqual(['Feed the Parrots', 'Order parrot food']);
    expect(await titles('zoo-8')).toEqual(['Clean the cage']);
    expect(await titles('  zoo ')).toEqual(['Clean the cage', 'Feed the Parrots']);
    // % and _ are text, not wildcards.
    expect(await titles('0% d')).toEqual(['100% done_ish']);
    expect(await titles('e_i')).toEqual(['100% done_ish']);
    expect(await titles('no such thing')).toEqual([]);
    const page = await allPage({ search: 'bulk', first: 7 });
    expect(page.tasks).toHaveLength(7);
    expect(page.taskCount).toBe(SEEDED);
    expect((await allPage({ search: 'bulk', status: 'DONE', first: 7 })).taskCount).toBe(10);
    expect((await allPage({ search: 'bulk', assigneeId: worker.id, first: 1 })).taskCount).toBe(
      stored.filter((row) => row.title.startsWith('Bulk') && row.assignee_id === worker.id).length,
    );
    expect((await allPage({ first: 1 })).taskCount).toBe(stored.length);
  });

  it.each<Sort>(['NEWEST', 'OLDEST', 'TITLE', 'STATUS'])('walks every task once in %s order, page by page', async (sort) => {
    expect(await walk({ sort }, 17)).toEqual(expectedOrder(sort));
  });

  it('keeps the newest-first default and the Tasks operation as documented', async () => {
    const documented = dataOf(await bed.system.request<{ tasks: TaskView[] }>(OPS.tasks, { first: 30 }, manager.token)).tasks;
    expect(documented.map((task) => task.id)).toEqual(expectedOrder('NEWEST').slice(0, 30));
  });

  it('refuses a bad search, sort or cursor with BAD_USER_INPUT on the field', async () => {
    const codes = async (variables: Record<string, unknown>) => refusal(await bed.system.request(LIST.all, variables, manager.token), 'tasks');
    expect(await codes({ search: 'x'.repeat(201) })).toEqual({ codes: ['BAD_USER_INPUT'], data: null });
    expect(await codes({ after: '00000000-0000-4000-8000-000000000000' })).toEqual({ codes: ['BAD_USER_INPUT'], data: null });
    expect(await codes({ first: 0 })).toEqual({ codes: ['BAD_USER_INPUT'], data: null });
    expect((await bed.system.request(LIST.all, { sort: 'PRICE' }, manager.token)).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });
});

describe('My tasks: the whole list by default, pages and totals on request', () => {
  it('keeps MyTasks the whole list, newest first', async () => {
    const mine = dataOf(await bed.system.request<{ myTasks: TaskView[] }>(OPS.myTasks, {}, worker.token)).myTasks;
    expect(mine.map((task) => task.id)).toEqual(expectedOrder('NEWEST', stored.filter((row) => row.assignee_id === worker.id)));
  });

  it('pages, searches and counts only the caller’s own tasks', async () => {
    const own = stored.filter((row) => row.assignee_id === worker.id);
    const ids: string[] = [];
    for (let after: string | null = null; ; ) {
      const page: MyPage = dataOf(await bed.system.request<MyPage>(LIST.mine, { sort: 'TITLE', first: 9, after }, worker.token));
      expect(page.open + page.done).toBe(own.length);
      expect(page.done).toBe(own.filter((row) => row.status === 'DONE').length);
      ids.push(...page.myTasks.map((task) => task.id));
      if (page.myTasks.length < 9) break;
      after = page.myTasks.at(-1)?.id ?? null;
    }
    expect(ids).toEqual(expectedOrder('TITLE', own));
    const found = dataOf(await bed.system.request<MyPage>(LIST.mine, { search: 'BULK TASK 1', status: 'OPEN' }, worker.token));
    expect(found.myTasks.every((task) => task.assignee.id === worker.id && task.status === 'OPEN' && /^Bulk task 1/.test(task.title))).toBe(true);
    expect(found.open).toBe(found.myTasks.length);
  });
});

describe('who may list what', () => {
  it('gives every task, its total and the assignee filter only to task:view_all', async () => {
    const result = await bed.system.request(LIST.all, { first: 5 }, worker.token);
    expect(new Set(result.errors?.map((error) => error.extensions?.code))).toEqual(new Set(['FORBIDDEN']));
    expect(result.data).toBeNull();
    expect(refusal(await bed.system.request(LIST.assignees, {}, worker.token), 'taskAssignees')).toEqual({ codes: ['FORBIDDEN'], data: null });
  });

  it('offers every popug of the directory as an assignee, searched and paged by name', async () => {
    type Assignees = { taskAssignees: { id: string; name: string; email: string }[] };
    const search = async (variables: Record<string, unknown>) =>
      dataOf(await bed.system.request<Assignees>(LIST.assignees, variables, manager.token)).taskAssignees;
    expect((await search({ search: 'popug zed' })).map((user) => user.id)).toEqual([worker.id]);
    expect((await search({ search: colleague.email.toUpperCase() })).map((user) => user.id)).toEqual([colleague.id]);
    // Every user, a page at a time, in name order: the manager, who holds no task, too.
    const everyone: string[] = [];
    for (let after: string | null = null; ; ) {
      const page = await search({ first: 1, after });
      everyone.push(...page.map((user) => user.id));
      if (page.length < 1) break;
      after = page.at(-1)?.id ?? null;
    }
    expect(everyone).toEqual(expect.arrayContaining([manager.id, worker.id, colleague.id]));
    expect(everyone.indexOf(colleague.id)).toBeLessThan(everyone.indexOf(worker.id));
  });
});
