import { withMovement } from '../src/accounting/account-updates';
import { catchUp, onCatchUp } from '../src/api/catch-up';
import { reactionTo, retryDelay } from '../src/api/live-policy';
import type { AccountFieldsFragment, MyAccountUpdatesSubscription, TaskFieldsFragment } from '../src/generated/graphql';
import { applyToAllTasks, applyToMyTasks, applyToPage, matchesView } from '../src/tracker/task-updates';

/** What live events do to the lists on screen, and how a live stream answers each way it ends (web/src/api/live.ts). */

const me = { id: 'u-me', name: 'Me', email: 'me@popug.test', role: 'worker' };
const other = { id: 'u-other', name: 'Other', email: 'other@popug.test', role: 'worker' };

function task(id: string, createdAt: string, overrides: Partial<TaskFieldsFragment> = {}): TaskFieldsFragment {
  return {
    id,
    title: `Task ${id}`,
    jiraId: null,
    description: '',
    status: 'OPEN',
    assignFee: 10,
    completionReward: 30,
    createdAt,
    completedAt: null,
    assignee: me,
    ...overrides,
  };
}

const older = task('a', '2026-12-06T09:00:00.000Z');
const newer = task('b', '2026-12-06T10:00:00.000Z');

describe('My tasks under TaskUpdates', () => {
  it('takes a task given to someone else off the list, and says which', () => {
    const moved = { ...newer, assignee: other };
    expect(applyToMyTasks([newer, older], moved, me.id)).toEqual({ tasks: [older], delta: -1, taken: moved });
  });

  it('puts a task assigned to the viewer in its place, newest first, once', () => {
    const middle = task('m', '2026-12-06T09:30:00.000Z');
    const once = applyToMyTasks([newer, older], middle, me.id).tasks;
    expect(once.map((row) => row.id)).toEqual(['b', 'm', 'a']);
    expect(applyToMyTasks(once, middle, me.id).tasks).toEqual(once);
  });

  it('shows a completion in place and ignores tasks of others it never held', () => {
    const done = { ...older, status: 'DONE' as const, completedAt: '2026-12-06T11:00:00.000Z' };
    expect(applyToMyTasks([newer, older], done, me.id).tasks).toEqual([newer, done]);
    expect(applyToMyTasks([newer], task('x', '2026-12-06T08:00:00.000Z', { assignee: other }), me.id)).toEqual({ tasks: [newer], delta: 0 });
  });
});

describe('All tasks under TaskUpdates', () => {
  const open = { status: 'OPEN' as const, assigneeId: null, first: 2 };

  it('keeps the page size and the order', () => {
    const newest = task('c', '2026-12-06T11:00:00.000Z');
    expect(applyToAllTasks([newer, older], newest, open).map((row) => row.id)).toEqual(['c', 'b']);
  });

  it('drops a task that no longer matches the filters', () => {
    expect(applyToAllTasks([newer, older], { ...older, status: 'DONE' }, open)).toEqual([newer]);
    expect(applyToAllTasks([newer, older], { ...older, assignee: other }, { ...open, assigneeId: me.id })).toEqual([newer]);
  });
});

describe('a searched, sorted page of a longer list under TaskUpdates', () => {
  const apple = task('p1', '2026-12-06T09:00:00.000Z', { title: 'Apple', jiraId: 'ZOO-1' });
  const cherry = task('p2', '2026-12-06T10:00:00.000Z', { title: 'cherry' });
  const byTitle = { sort: 'TITLE' as const, search: null };

  it('matches a search in the title or the jira id, ignoring case', () => {
    expect(matchesView(apple, { search: 'zoo' })).toBe(true);
    expect(matchesView(cherry, { search: 'ERR' })).toBe(true);
    expect(matchesView(cherry, { search: 'zoo' })).toBe(false);
  });

  it('puts a new task where the order puts it and counts it', () => {
    const banana = task('p3', '2026-12-06T11:00:00.000Z', { title: 'Banana' });
    expect(applyToPage([apple, cherry], banana, true, byTitle, false)).toEqual({ tasks: [apple, banana, cherry], delta: 1 });
  });

  it('leaves out a task ordered past the last loaded one while pages are unloaded: it is counted already', () => {
    const zebra = task('p4', '2026-12-06T08:00:00.000Z', { title: 'Zebra' });
    expect(applyToPage([apple, cherry], zebra, true, byTitle, false)).toEqual({ tasks: [apple, cherry], delta: 0 });
    expect(applyToPage([apple, cherry], zebra, true, byTitle, true)).toEqual({ tasks: [apple, cherry, zebra], delta: 1 });
  });

  it('takes out a task that stops matching and counts it out', () => {
    expect(applyToPage([apple, cherry], { ...apple, status: 'DONE' }, false, byTitle, false)).toEqual({ tasks: [cherry], delta: -1 });
  });
});

describe('My account under MyAccountUpdates', () => {
  const account: AccountFieldsFragment = {
    user: { id: me.id, name: me.name, email: me.email },
    balance: -10,
    transactions: [
      { id: 't1', kind: 'ASSIGN_FEE', amount: -10, description: 'Fee', businessDay: '2026-12-06', createdAt: '2026-12-06T09:00:00.000Z', task: null },
    ],
  };
  const reward: MyAccountUpdatesSubscription['myAccountUpdated'] = {
    balance: 20,
    transaction: { id: 't2', kind: 'COMPLETION_REWARD', amount: 30, description: 'Reward', businessDay: '2026-12-06', createdAt: '2026-12-06T10:00:00.000Z', task: null },
  };

  it('moves the balance and puts the transaction on top of the day it belongs to, once', () => {
    const after = withMovement(account, reward, '2026-12-06');
    expect(after.balance).toBe(20);
    expect(after.transactions.map((row) => row.id)).toEqual(['t2', 't1']);
    expect(withMovement(after, reward, '2026-12-06')).toEqual(after);
  });

  it('moves only the balance while another day is shown', () => {
    expect(withMovement(account, reward, '2026-12-05')).toEqual({ ...account, balance: 20 });
  });
});

describe('live stream endings', () => {
  it.each([
    ['SESSION_EXPIRED', 'renew'],
    ['SESSION_ENDED', 'renew'],
    ['ACCOUNT_DEACTIVATED', 'renew'],
    ['UNAUTHENTICATED', 'renew'],
    ['SUBSCRIPTION_INTERRUPTED', 'retry'],
    ['SLOW_CONSUMER', 'retry'],
    ['NETWORK', 'retry'],
    [undefined, 'retry'],
    ['RATE_LIMITED', 'later'],
    ['FORBIDDEN', 'stop'],
    ['PERSISTED_QUERY_NOT_IN_LIST', 'stop'],
  ])('%s → %s', (code, reaction) => {
    expect(reactionTo(code)).toBe(reaction);
  });

  it('backs off from half a second to thirty, jittered within the upper half', () => {
    expect(retryDelay(0, () => 0)).toBe(250);
    expect(retryDelay(0, () => 1)).toBe(500);
    expect(retryDelay(3, () => 1)).toBe(4_000);
    expect(retryDelay(20, () => 1)).toBe(30_000);
    expect(retryDelay(20, () => 0)).toBe(15_000);
  });
});

describe('catching up', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('asks once for catch-ups that come together, as of the latest of them', () => {
    const heard: number[] = [];
    const stop = onCatchUp((since) => heard.push(since));
    catchUp(1_000);
    catchUp(3_000);
    catchUp(2_000);
    jest.advanceTimersByTime(200);
    catchUp(5_000);
    jest.advanceTimersByTime(200);
    stop();
    catchUp(7_000);
    jest.advanceTimersByTime(200);
    expect(heard).toEqual([3_000, 5_000]);
  });
});
