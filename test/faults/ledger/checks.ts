import { addDays, endOfBusinessDay } from '@popug/lib/business-day';
import type { AccountingState, AnalyticsState, AuditRow, LogState, TaskEvent, TrackerState } from './snapshot';
import { SOURCE_TRANSACTION_LIMIT_MS } from '@popug/lib/replication/completeness';

/**
 * The ledger invariants, one function each, numbered as in invariants.ts; each reads a
 * snapshot and returns its violations, every message starting with "invariant N:".
 */


const KIND_OF = { 'task.assigned': 'ASSIGN_FEE', 'task.completed': 'COMPLETION_REWARD' } as const;

/** The signed amount an event moves: −fee on assignment, +reward on completion. */
const amountOf = (event: TaskEvent): number => (event.type === 'task.assigned' ? -event.price : event.price);

/**
 * The task events that move money: every assignment, and the first completion of each
 * task (one reward per task; a second completion in the log earns nothing).
 */
export function movingMoney(log: LogState): Set<string> {
  const rewarded = new Set<string>();
  const moving = new Set<string>();
  for (const event of log.taskEvents) {
    if (event.type === 'task.completed') {
      if (rewarded.has(event.taskId)) continue;
      rewarded.add(event.taskId);
    }
    moving.add(event.version);
  }
  return moving;
}

/** Appends `value` to the list under `key` (in place: ledgers of thousands of rows stay linear). */
function append<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

const applied = (version: string, watermark: string): boolean => BigInt(version) <= BigInt(watermark);
const isTaskRow = (row: AuditRow): boolean => row.kind !== 'PAYOUT';

/** 1. Every account's audit log sums to its balance, and every audit-log row has its account. */
export function auditLogSumsToBalance(accounting: AccountingState): string[] {
  const violations: string[] = [];
  for (const row of accounting.accounts) {
    if (row.balance !== row.logSum) violations.push(`invariant 1: account ${row.userId}: balance ${row.balance} but its audit log sums to ${row.logSum}`);
  }
  for (const userId of accounting.orphans) violations.push(`invariant 1: transactions of ${userId}, who has no account`);
  return violations;
}

/**
 * 2. Accounting and the tracker agree with the log. Each task event accounting has applied
 * (version ≤ its watermark) that moves money has exactly one audit-log row — its assignee,
 * ASSIGN_FEE −fee or COMPLETION_REWARD +reward — a second completion of a task has none,
 * and every fee or reward row has such an event. Every task the tracker holds matches its
 * events: the same fee and reward, completed at most once, by its assignee, and (once the
 * tracker's outbox is empty) assigned last to its assignee and done exactly when completed.
 */
export function accountingAndTrackerMatchTheLog(accounting: AccountingState, tracker: TrackerState, log: LogState): string[] {
  const violations: string[] = [];
  const moving = movingMoney(log);
  const rowsByVersion = new Map<string, AuditRow[]>();
  for (const row of accounting.rows.filter(isTaskRow)) {
    const key = row.sourceVersion ?? `row ${row.id}`;
    append(rowsByVersion, key, row);
  }
  const describe = (row: AuditRow) => `${row.kind} ${row.amount} for ${row.userId}`;
  const appliedEvents = new Set<string>();
  for (const event of log.taskEvents) {
    if (!applied(event.version, accounting.watermark)) continue;
    appliedEvents.add(event.version);
    const rows = rowsByVersion.get(event.version) ?? [];
    const what = `log version ${event.version} (${event.type} of task ${event.taskId})`;
    if (!moving.has(event.version)) {
      if (rows.length > 0) violations.push(`invariant 2: ${what} is a second completion of its task, yet booked as ${rows.map(describe).join(', ')}`);
      continue;
    }
    const want: AuditRow['kind'] = KIND_OF[event.type];
    const [row] = rows;
    if (!row) violations.push(`invariant 2: ${what} has no row in accounting's audit log`);
    else if (rows.length > 1 || row.kind !== want || row.amount !== amountOf(event) || row.userId !== event.assigneeId) {
      violations.push(`invariant 2: ${what} is booked as ${rows.map(describe).join(', ')}; the event says ${want} ${amountOf(event)} for ${event.assigneeId}`);
    }
  }
  for (const [version, rows] of rowsByVersion) {
    if (!appliedEvents.has(version)) {
      for (const row of rows) violations.push(`invariant 2: audit-log row ${row.id} (${describe(row)}) has no task event in the log up to accounting's watermark ${accounting.watermark}`);
    }
  }

  const eventsByTask = new Map<string, TaskEvent[]>();
  for (const event of log.taskEvents) append(eventsByTask, event.taskId, event);
  const taskIds = new Set(tracker.tasks.map((task) => task.id));
  for (const taskId of eventsByTask.keys()) {
    if (!taskIds.has(taskId)) violations.push(`invariant 2: the master log has events of task ${taskId}, which the tracker does not have`);
  }
  for (const task of tracker.tasks) {
    const events = eventsByTask.get(task.id);
    if (!events) {
      if (tracker.settled) violations.push(`invariant 2: task ${task.id} is in the tracker but has no event in the master log`);
      continue;
    }
    const assignments = events.filter((event) => event.type === 'task.assigned');
    const completions = events.filter((event) => event.type === 'task.completed');
    const fees = [...new Set(assignments.map((event) => event.price))];
    if (fees.some((fee) => fee !== task.assignFee)) violations.push(`invariant 2: task ${task.id}: fees ${fees.join(',')} in the log, ${task.assignFee} in the tracker`);
    if (completions.some((event) => event.price !== task.completionReward)) {
      violations.push(`invariant 2: task ${task.id}: rewards ${completions.map((event) => event.price).join(',')} in the log, ${task.completionReward} in the tracker`);
    }
    if (completions.length > 1) violations.push(`invariant 2: task ${task.id} completed ${completions.length} times in the log`);
    if (task.status === 'OPEN' && completions.length > 0) violations.push(`invariant 2: task ${task.id} is open in the tracker but completed in the log`);
    if (completions.some((event) => event.assigneeId !== task.assigneeId)) violations.push(`invariant 2: task ${task.id} completed in the log by someone other than its assignee`);
    if (tracker.settled) {
      const lastAssignee = assignments.at(-1)?.assigneeId;
      if (lastAssignee !== task.assigneeId) violations.push(`invariant 2: task ${task.id}: assigned to ${task.assigneeId} in the tracker, last to ${lastAssignee} in the log`);
      if (task.status === 'DONE' && completions.length !== 1) violations.push(`invariant 2: task ${task.id} is done in the tracker, completed ${completions.length} times in the log`);
    }
  }
  return violations;
}

/**
 * 3. Every (user, business day) is paid at most once: one payout row, one PAYOUT
 * transaction, one `payout.made` event (in the log or still in accounting's outbox), all of
 * one amount, the payout row naming that transaction.
 */
export function paidOncePerDay(accounting: AccountingState, log: LogState): string[] {
  interface Paid {
    payouts: number[];
    debits: number[];
    events: number[];
  }
  const byKey = new Map<string, Paid>();
  const at = (userId: string, day: string): Paid => {
    const key = `${userId} on ${day}`;
    const known = byKey.get(key) ?? { payouts: [], debits: [], events: [] };
    byKey.set(key, known);
    return known;
  };
  for (const payout of accounting.payouts) at(payout.userId, payout.day).payouts.push(payout.amount);
  for (const row of accounting.rows) if (row.kind === 'PAYOUT') at(row.userId, row.businessDay).debits.push(-row.amount);
  // An event collected between the two reads is in both: count each event id once.
  const events = new Map([...accounting.outboxPayouts, ...log.payoutEvents].map((event) => [event.eventId, event]));
  for (const event of events.values()) at(event.userId, event.day).events.push(event.amount);

  const violations: string[] = [];
  for (const [key, paid] of byKey) {
    const amounts = new Set([...paid.payouts, ...paid.debits, ...paid.events]);
    if (paid.payouts.length !== 1 || paid.debits.length !== 1 || paid.events.length !== 1 || amounts.size !== 1) {
      violations.push(
        `invariant 3: ${key}: payout rows [${paid.payouts.join(', ')}], PAYOUT transactions [${paid.debits.join(', ')}], payout.made events [${paid.events.join(', ')}]; want one of each, of one amount`,
      );
    }
  }
  const debitIds = new Map(accounting.rows.filter((row) => row.kind === 'PAYOUT').map((row) => [row.id, row]));
  for (const payout of accounting.payouts) {
    const debit = debitIds.get(payout.transactionId);
    if (!debit || debit.userId !== payout.userId || debit.businessDay !== payout.day) {
      violations.push(`invariant 3: the payout of ${payout.userId} on ${payout.day} names transaction ${payout.transactionId}, which is not its PAYOUT transaction`);
    }
  }
  return violations;
}

/**
 * 4. The master log is gap-free 1..N; a (source, source_seq) repeats only for a source with
 * a `source_rewinds` row (restored from a backup, it hands its seqs out again); no replica's
 * watermark is past the head.
 */
export function logIsWhole(log: LogState, watermarks: Record<'tracker' | 'accounting' | 'analytics', string>): string[] {
  const violations: string[] = [];
  if (log.count !== 0 && (log.low !== '1' || log.high !== String(log.count))) {
    violations.push(`invariant 4: the master log is not gap-free: ${log.count} versions from ${log.low} to ${log.high}`);
  }
  for (const { source, pairs } of log.repeatedSeqs) {
    if (!log.rewoundSources.has(source)) violations.push(`invariant 4: the master log repeats ${pairs} (source, source_seq) of ${source}, which has no source_rewinds row`);
  }
  for (const [replica, watermark] of Object.entries(watermarks)) {
    if (BigInt(watermark) > BigInt(log.high)) violations.push(`invariant 4: ${replica}'s watermark ${watermark} is past the master head ${log.high}`);
  }
  return violations;
}

/**
 * The day each money-moving event accounting has applied is booked on: its own day, or,
 * for a row booked late, the day accounting booked it on.
 */
function bookedDays(accounting: AccountingState): Map<string, string> {
  const late = new Map<string, string>();
  for (const row of accounting.rows) if (row.lateFrom !== null && row.sourceVersion !== null) late.set(row.sourceVersion, row.businessDay);
  return late;
}

/**
 * 5. Every payout of a day closed after its end is the account's balance at the end of that
 * day, recomputed from the log — the money-moving task events accounting has applied, each
 * on the day it was booked (its own day; a late row's booking day) — minus the PAYOUT
 * transactions of earlier days; so every account positive at the end of such a day was
 * paid exactly that, and no other was paid. A day closed by hand before its end paid the
 * balances as they stood; its payouts still count as paid before the next day.
 */
export function payoutsAreEndOfDayBalances(accounting: AccountingState, log: LogState, timeZone: string): string[] {
  const moving = movingMoney(log);
  const late = bookedDays(accounting);
  const money = new Map<string, { day: string; amount: number }[]>();
  for (const event of log.taskEvents) {
    if (!moving.has(event.version) || !applied(event.version, accounting.watermark)) continue;
    const entry = { day: late.get(event.version) ?? event.day, amount: amountOf(event) };
    append(money, event.assigneeId, entry);
  }
  const paid = new Map<string, number>();
  for (const row of accounting.rows) {
    if (row.kind === 'PAYOUT') paid.set(`${row.userId} ${row.businessDay}`, (paid.get(`${row.userId} ${row.businessDay}`) ?? 0) - row.amount);
  }
  const closed = accounting.closedDays.map(({ day, closedAt }) => ({ day, ended: closedAt >= endOfBusinessDay(day, timeZone).getTime() }));
  const users = new Set([...money.keys(), ...accounting.rows.filter((row) => row.kind === 'PAYOUT').map((row) => row.userId)]);
  const violations: string[] = [];
  for (const userId of users) {
    const mine = money.get(userId) ?? [];
    let paidBefore = 0;
    for (const { day, ended } of closed) {
      const earned = mine.filter((entry) => entry.day <= day).reduce((sum, entry) => sum + entry.amount, 0);
      const balance = earned - paidBefore;
      const have = paid.get(`${userId} ${day}`) ?? 0;
      if (ended && Math.max(0, balance) !== have) violations.push(`invariant 5: user ${userId} on ${day}: paid ${have}, the balance at the end of the day was ${balance}`);
      paidBefore += have;
    }
  }
  return violations;
}

/**
 * 6. Every fee or reward row is booked on the business day its event happened in
 * (BUSINESS_TZ) — or, when that day was already closed, it is a late row: `late_from` is its
 * event's day, it is booked after that day on the first open day of the time (the day
 * before it is closed), and its event was written (source clock) after its day's fence,
 * the end of the day plus SOURCE_TRANSACTION_LIMIT_MS; a late row whose event was written
 * before the fence shows a close that ran before its day was complete. (A day closed by
 * hand before its end is exempt from the fence: that close paid the balances as they
 * stood.) Every fee in the log is within 1000..2000 cents, every reward within 2000..4000.
 */
export function rowsAreDatedByTheirEvents(accounting: AccountingState, log: LogState, timeZone: string): string[] {
  const violations: string[] = [];
  const events = new Map(log.taskEvents.map((event) => [event.version, event]));
  const closed = new Map(accounting.closedDays.map((day) => [day.day, day.closedAt]));
  for (const row of accounting.rows) {
    const event = row.kind === 'PAYOUT' || row.sourceVersion === null ? undefined : events.get(row.sourceVersion);
    if (!event) continue; // a fee or reward row without its event is invariant 2's
    const what = `invariant 6: the audit-log row of log version ${event.version}`;
    if (row.lateFrom === null) {
      if (row.businessDay !== event.day) violations.push(`${what} is dated ${row.businessDay}, its event happened on ${event.day}`);
      continue;
    }
    if (row.lateFrom !== event.day) {
      violations.push(`${what} is marked late from ${row.lateFrom}, its event happened on ${event.day}`);
    } else if (row.businessDay <= row.lateFrom) {
      violations.push(`${what} is marked late from ${row.lateFrom} but booked on ${row.businessDay}: a late row is booked after its own day`);
    } else if (!closed.has(addDays(row.businessDay, -1))) {
      violations.push(`${what} is booked late on ${row.businessDay}, but ${addDays(row.businessDay, -1)} is not closed: a late row goes to the first open day`);
    } else {
      const end = endOfBusinessDay(row.lateFrom, timeZone).getTime();
      const closedAt = closed.get(row.lateFrom);
      const fence = end + SOURCE_TRANSACTION_LIMIT_MS;
      if (closedAt !== undefined && closedAt >= end && event.occurredAt <= fence) {
        violations.push(
          `${what} is booked late on ${row.businessDay}, but its event was written at ${new Date(event.occurredAt).toISOString()}, before ${row.lateFrom}'s fence at ${new Date(fence).toISOString()}: ${row.lateFrom} was closed before it was complete`,
        );
      }
    }
  }
  for (const event of log.taskEvents) {
    const [low, high] = event.type === 'task.assigned' ? [1000, 2000] : [2000, 4000];
    if (event.price < low || event.price > high) violations.push(`invariant 6: ${event.type} at version ${event.version}: ${event.price} is outside ${low}..${high}`);
  }
  return violations;
}

export type AnalyticsCheck = { violations: string[] } | { unchecked: string };

/**
 * 7. Analytics agrees with accounting, compared where both have applied the same log
 * prefix: each day's fees and rewards, and the number of negative balances at the end of
 * each day. Money counts on the day it happened (a fee or reward row on its event's day, so
 * a late row on its late_from day; a payout on the day it pays for), as analytics reads the
 * log. Not comparable — reported as unchecked, never passed — while the two watermarks
 * differ or a payout accounting made is not yet applied by analytics.
 */
export function analyticsAgrees(accounting: AccountingState, analytics: AnalyticsState, log: LogState): AnalyticsCheck {
  const name = 'invariant 7 (analytics agrees with accounting)';
  if (analytics.watermark !== accounting.watermark) {
    return { unchecked: `${name}: not checked, analytics has applied the log up to version ${analytics.watermark}, accounting up to ${accounting.watermark}` };
  }
  const pending = accounting.outboxPayouts.length + log.payoutEvents.filter((event) => event.version !== null && !applied(event.version, analytics.watermark)).length;
  if (pending > 0) return { unchecked: `${name}: not checked, ${pending} payout.made events of accounting are not yet applied by analytics` };

  const events = new Map(log.taskEvents.map((event) => [event.version, event]));
  const dayOf = (row: AuditRow): string => (row.kind === 'PAYOUT' || row.sourceVersion === null ? row.businessDay : (events.get(row.sourceVersion)?.day ?? row.businessDay));
  const earnings = new Map<string, { fees: number; rewards: number }>();
  for (const row of accounting.rows.filter(isTaskRow)) {
    const day = earnings.get(dayOf(row)) ?? { fees: 0, rewards: 0 };
    if (row.kind === 'ASSIGN_FEE') day.fees -= row.amount;
    else day.rewards += row.amount;
    earnings.set(dayOf(row), day);
  }
  const key = (day: string, fees: number, rewards: number) => `${day}: fees ${fees}, rewards ${rewards}`;
  const accountingEarnings = new Set([...earnings].filter(([, sums]) => sums.fees !== 0 || sums.rewards !== 0).map(([day, sums]) => key(day, sums.fees, sums.rewards)));
  const analyticsEarnings = new Set(analytics.earnings.map((row) => key(row.day, row.fees, row.rewards)));
  const violations: string[] = [];
  for (const row of accountingEarnings) if (!analyticsEarnings.has(row)) violations.push(`invariant 7: earnings ${row} in accounting, not in analytics`);
  for (const row of analyticsEarnings) if (!accountingEarnings.has(row)) violations.push(`invariant 7: earnings ${row} in analytics, not in accounting`);

  const movesByDay = new Map<string, AuditRow[]>();
  for (const row of accounting.rows) append(movesByDay, dayOf(row), row);
  const balances = new Map<string, number>();
  for (const day of [...movesByDay.keys()].sort()) {
    for (const row of movesByDay.get(day) ?? []) balances.set(row.userId, (balances.get(row.userId) ?? 0) + row.amount);
    const negative = [...balances.values()].filter((balance) => balance < 0).length;
    const inForce = analytics.negativeCounts.filter((row) => row.day <= day).at(-1)?.count ?? 0;
    if (inForce !== negative) violations.push(`invariant 7: ${day}: ${negative} negative balances at its end in accounting, ${inForce} in analytics`);
  }
  return { violations };
}
