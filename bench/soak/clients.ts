import { addDays, today as todayIn } from '@popug/lib/business-day';
import type { TestUser } from '@popug/testing/people';
import type { GraphQLResponse } from '@popug/testing/stack';
import type { GraphClient } from '@popug/testing/system';
import { SOAK_OPERATIONS as OPS } from './operations';
import { SOAK_PASSWORD } from './people';

/** Each client its own user, by role. */
export interface SoakPeople {
  popugs: TestUser[];
  managers: TestUser[];
  accountants: TestUser[];
  admins: TestUser[];
}

/** What the clients did, and the money they saw move (checked against the ledger at the end). */
export interface Tally {
  requests: number;
  /** Answers with an error nobody expected (or none at all). */
  failures: number;
  /** Refusals a mixed load makes by itself: a shuffle gave the task to someone else between listing and completing it. */
  raced: number;
  created: number;
  /** Cents, the fees of the tasks the managers created (their first assignment). */
  createdFees: number;
  completed: number;
  /** Cents, the rewards of the tasks the popugs completed. */
  rewards: number;
  shuffles: number;
  auditPages: number;
  firstFailures: string[];
}

export const emptyTally = (): Tally => ({ requests: 0, failures: 0, raced: 0, created: 0, createdFees: 0, completed: 0, rewards: 0, shuffles: 0, auditPages: 0, firstFailures: [] });

export interface ClientPlan {
  /** performance.now() when the clients stop. */
  until: number;
  /**
   * Each client sends a request at most once per this many ms (the next one waits for the
   * answer and the rest of its slot): the system sees the same rate all run long whatever
   * the host's speed, so memory at minute 30 compares with memory at minute 2.
   */
  clientIntervalMs: number;
  /** Rows per page of an audit log. */
  pageRows: number;
  /** How often the first manager shuffles every open task. */
  shuffleEveryMs: number;
  timeZone: string;
  /** Read audit logs as the contract's MyAccount and Account do, a whole day per answer, instead of by pages. */
  wholeDayLogs: boolean;
}

interface TaskAnswer {
  id: string;
  assignFee: number;
  completionReward: number;
}
interface AuditPage {
  balance: number;
  transactions: { cursor: string }[];
}

/** A share of a client's rounds that reads a whole audit log page by page (the rest read its newest page). */
const WHOLE_LOG_SHARE = 0.2;

/** Every client's loop until `plan.until`, all at once; `tally` counts as they go. */
export async function runClients(client: GraphClient, people: SoakPeople, plan: ClientPlan, tally: Tally): Promise<void> {
  const ask = asker(client, tally, plan.clientIntervalMs);
  const loop = async (round: () => Promise<void>) => {
    while (performance.now() < plan.until) await round();
  };
  const walkLog = async (readPage: (after: string | undefined) => Promise<AuditPage | undefined>) => {
    const whole = Math.random() < WHOLE_LOG_SHARE;
    let after: string | undefined;
    for (;;) {
      const page = await readPage(after);
      tally.auditPages++;
      if (!page || !whole || page.transactions.length < plan.pageRows) return;
      after = page.transactions.at(-1)?.cursor;
    }
  };
  let nextShuffle = performance.now() + plan.shuffleEveryMs;
  let taskNumber = 0;

  const popug = (user: TestUser) => async () => {
    const open = (await ask<{ myTasks: TaskAnswer[] }>(user, OPS.myTasks, { status: 'OPEN' }))?.myTasks ?? [];
    const task = open[Math.floor(Math.random() * open.length)];
    if (task) {
      const done = await ask<{ completeTask: TaskAnswer }>(user, OPS.completeTask, { id: task.id }, ['FORBIDDEN']);
      if (done) {
        tally.completed++;
        tally.rewards += done.completeTask.completionReward;
      }
    }
    if (plan.wholeDayLogs) await ask(user, OPS.myAccount, {});
    else await walkLog(async (after) => (await ask<{ myAccount: AuditPage }>(user, OPS.myAuditLogPage, { first: plan.pageRows, after }))?.myAccount);
  };
  const manager = (user: TestUser, shuffles: boolean) => async () => {
    const number = ++taskNumber;
    const created = await ask<{ createTask: TaskAnswer }>(user, OPS.createTask, { title: `Soak task ${number}`, description: 'made by the soak', jiraId: `SOAK-${number}` });
    if (created) {
      tally.created++;
      tally.createdFees += created.createTask.assignFee;
    }
    await ask(user, OPS.tasks, { status: 'OPEN', first: 50 });
    if (shuffles && performance.now() >= nextShuffle) {
      nextShuffle = performance.now() + plan.shuffleEveryMs;
      if (await ask(user, OPS.shuffleTasks, {})) tally.shuffles++;
    }
  };
  const accountant = (user: TestUser) => async () => {
    const today = todayIn(plan.timeZone);
    await ask(user, OPS.accounts, {});
    await ask(user, OPS.managementEarnings, { day: today });
    await ask(user, OPS.earningsByDay, { from: addDays(today, -6), to: today });
    const popugUser = people.popugs[Math.floor(Math.random() * people.popugs.length)];
    if (popugUser && plan.wholeDayLogs) await ask(user, OPS.account, { userId: popugUser.id });
    else if (popugUser) {
      await walkLog(async (after) => (await ask<{ account: AuditPage }>(user, OPS.accountAuditLogPage, { userId: popugUser.id, first: plan.pageRows, after }))?.account);
    }
  };
  const admin = (user: TestUser) => async () => {
    const today = todayIn(plan.timeZone);
    await ask(user, OPS.analyticsSummary, { day: today });
    await ask(user, OPS.mostExpensiveTask, { period: 'DAY', day: today });
    await ask(user, OPS.users, { role: 'worker', active: true });
  };
  await Promise.all([
    ...people.popugs.map((user) => loop(popug(user))),
    ...people.managers.map((user, index) => loop(manager(user, index === 0))),
    ...people.accountants.map((user) => loop(accountant(user))),
    ...people.admins.map((user) => loop(admin(user))),
  ]);
}

/**
 * One request as `user`: its data, or undefined when it failed (counted, the first few
 * shown) or was refused with one of the `expected` codes (counted as raced). Then the rest
 * of the user's slot: a client that fell behind goes on at once, with no burst to catch up.
 */
function asker(client: GraphClient, tally: Tally, intervalMs: number) {
  const slots = new Map<string, number>();
  return async <TData = Record<string, unknown>>(user: TestUser, query: string, variables: Record<string, unknown>, expected: readonly string[] = []): Promise<TData | undefined> => {
    const due = Math.max((slots.get(user.id) ?? performance.now()) + intervalMs, performance.now());
    slots.set(user.id, due);
    let answer: GraphQLResponse<TData> | undefined;
    try {
      answer = await client.request<TData>(query, variables, user.token);
      // Access tokens live 15 minutes (docs/security.md "Sessions"), the soak 30: sign in again, as a client would.
      if (answer.errors?.some((error) => error.extensions?.code === 'UNAUTHENTICATED')) {
        user.token = await client.login(user.email, SOAK_PASSWORD);
        answer = await client.request<TData>(query, variables, user.token);
      }
    } catch (error) {
      noteFailure(tally, `${user.role}: ${(error as Error).message}`);
    }
    tally.requests++;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
    if (!answer) return undefined;
    const codes = (answer.errors ?? []).map((error) => error.extensions?.code ?? 'none');
    if (codes.length && codes.every((code) => expected.includes(code))) {
      tally.raced++;
      return undefined;
    }
    if (codes.length || !answer.data) {
      noteFailure(tally, `${user.role}: ${answer.status} ${JSON.stringify(answer.errors).slice(0, 300)}`);
      return undefined;
    }
    return answer.data;
  };
}

function noteFailure(tally: Tally, message: string): void {
  tally.failures++;
  if (tally.firstFailures.length < 5) {
    tally.firstFailures.push(message);
    process.stderr.write(`  failed answer: ${message}\n`);
  }
}
