import { randomUUID } from 'node:crypto';
import { newEvent, type NewEvent } from '@popug/lib/replication/outbox';
import { addDays, startOfBusinessDay } from '@popug/lib/business-day';

/**
 * A made-up but lawful history of a company: tasks created (by a popug, mostly) and assigned, some reshuffled,
 * most completed by their assignee, and every positive balance paid out just after each
 * business midnight — the events tracker and accounting would write, with chosen times.
 * Seeded, so a failure can be replayed.
 */

export type Source = 'tracker' | 'accounting';

export interface SourcedEvent {
  source: Source;
  event: NewEvent;
  /** The instant the event is about (its payload's time), in ms. */
  at: number;
}

export interface WorldOptions {
  seed: number;
  timeZone: string;
  firstDay: string;
  days: number;
  users: number;
  tasksPerDay: number;
  /** Share of events that reach the log late, after events of later days. */
  lateShare: number;
}

export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The events in log order: mostly by time, with `lateShare` of them pushed later. */
export function generateWorld(options: WorldOptions): SourcedEvent[] {
  const next = random(options.seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const between = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const users = Array.from({ length: options.users }, () => randomUUID());
  const midnights = Array.from({ length: options.days + 3 }, (_, index) =>
    startOfBusinessDay(addDays(options.firstDay, index), options.timeZone).getTime(),
  );
  /** A time within day `index`; one in five sits within a second of a midnight. */
  const timeIn = (index: number) => {
    const start = midnights[index] ?? 0;
    const end = midnights[index + 1] ?? start;
    const roll = next();
    if (roll < 0.1) return start + between(0, 999);
    if (roll < 0.2) return end - 1 - between(0, 999);
    return start + Math.floor(next() * (end - start));
  };

  const taskEvents: SourcedEvent[] = [];
  let serial = 0;
  for (let day = 0; day < options.days; day++) {
    for (let n = 0; n < options.tasksPerDay; n++) {
      serial += 1;
      const task = {
        taskId: randomUUID(),
        title: `Task ${serial}`,
        jiraId: next() < 0.5 ? `POPUG-${serial}` : null,
        description: `Feed the parrots, round ${serial}`,
      };
      const fee = between(1000, 2000);
      // Few distinct rewards, so equal rewards (ties) happen within days, weeks and months.
      const reward = 2000 + 100 * between(0, 20);
      let at = timeIn(day);
      let assignee = pick(users);
      // Every tenth task has no creator (as a seeded one may not); the rest rotate over the popugs,
      // so about one in `users` lands on its creator. No draw from `next`: the world stays as it was.
      const createdBy = serial % 10 === 0 ? null : (users[serial % users.length] as string);
      const terms = { assignFee: fee, completionReward: reward };
      taskEvents.push(tracked(newEvent('task.created', { ...task, ...terms, createdBy, createdAt: iso(at) }), at));
      taskEvents.push(tracked(newEvent('task.assigned', { ...task, assigneeId: assignee, fee, reason: 'created', assignedAt: iso(at) }), at));
      if (next() < 0.3) {
        at = Math.max(at + 1, timeIn(Math.min(day + between(0, 1), options.days - 1)));
        assignee = pick(users);
        taskEvents.push(tracked(newEvent('task.assigned', { ...task, assigneeId: assignee, fee, reason: 'shuffle', assignedAt: iso(at) }), at));
      }
      if (next() < 0.75) {
        at = Math.max(at + 1, timeIn(Math.min(day + between(0, 2), options.days - 1)));
        taskEvents.push(tracked(newEvent('task.completed', { ...task, assigneeId: assignee, reward, completedAt: iso(at) }), at));
      }
    }
  }
  taskEvents.sort((left, right) => left.at - right.at);

  // Accounting closes each business day: every positive balance is paid out just after midnight.
  const withPayouts: SourcedEvent[] = [];
  const balances = new Map<string, number>();
  let cursor = 0;
  for (let day = 0; day < options.days; day++) {
    const end = midnights[day + 1] ?? 0;
    while (cursor < taskEvents.length && (taskEvents[cursor]?.at ?? Infinity) < end) {
      const item = taskEvents[cursor++] as SourcedEvent;
      withPayouts.push(item);
      const effect = balanceEffect(item.event);
      if (effect) balances.set(effect.userId, (balances.get(effect.userId) ?? 0) + effect.amount);
    }
    const paidAt = end + 1000;
    for (const [userId, balance] of balances) {
      if (balance <= 0) continue;
      balances.set(userId, 0);
      const payout = newEvent('payout.made', { userId, amount: balance, businessDay: addDays(options.firstDay, day), paidAt: iso(paidAt) });
      withPayouts.push({ source: 'accounting', event: payout, at: paidAt });
    }
  }
  withPayouts.push(...taskEvents.slice(cursor));

  // Some events reach the log late: behind events of later days.
  const logOrder: SourcedEvent[] = [];
  const late: SourcedEvent[] = [];
  for (const item of withPayouts) {
    if (next() < options.lateShare) late.push(item);
    else logOrder.push(item);
    if (late.length > 0 && next() < 0.02) logOrder.push(...late.splice(0, late.length));
  }
  logOrder.push(...late);
  return logOrder;
}

function tracked(event: NewEvent, at: number): SourcedEvent {
  return { source: 'tracker', event, at };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** How an event moves its popug's balance: −fee, +reward, −payout; null for a task.created, which moves none. */
export function balanceEffect(event: NewEvent): { userId: string; amount: number } | null {
  switch (event.type) {
    case 'task.created':
      return null;
    case 'task.assigned':
      return { userId: event.payload.assigneeId, amount: -event.payload.fee };
    case 'task.completed':
      return { userId: event.payload.assigneeId, amount: event.payload.reward };
    case 'payout.made':
      return { userId: event.payload.userId, amount: -event.payload.amount };
    default:
      throw new Error(`${event.type} moves no balance`);
  }
}
