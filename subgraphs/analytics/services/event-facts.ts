import { businessDayOf } from '@popug/lib/business-day';
import type { TypedChange } from '@popug/lib/replication/replica';
import type { BalanceMove } from './balance-history';

/** The task and money events analytics reads, besides the company directory. */
export const OWN_EVENT_TYPES = ['task.created', 'task.assigned', 'task.completed', 'payout.made'] as const;
export type OwnEventType = (typeof OWN_EVENT_TYPES)[number];

/** Fees taken and rewards paid on one business day, in cents. */
export interface DayEarnings {
  day: string;
  fees: number;
  rewards: number;
}

/** A completed task, candidate for its day's most expensive one. */
export interface Completion {
  day: string;
  taskId: string;
  title: string;
  jiraId: string | null;
  reward: number;
  completedAt: string;
}

export interface BatchFacts {
  earnings: DayEarnings[];
  /** Each day's completions with that day's highest reward in the batch: the only ones that can win it. */
  completions: Completion[];
  /** Net per popug and day: −fee on assignment, +reward on completion, −amount on the day a payout pays for. */
  moves: BalanceMove[];
  /** What the batch tells of each task's creator, first assignee and completer. */
  origins: TaskOrigin[];
}

/**
 * Who created a task, on which business day, who it landed on at creation, and who
 * completed it (first completion only, as rewards count) for what reward: whatever the
 * batch tells, null for the rest. Events of one task may reach the log in any order and
 * in different batches; the row they fill does not depend on it (read-model.ts).
 */
export interface TaskOrigin {
  taskId: string;
  createdBy: string | null;
  createdDay: string | null;
  creationAssignee: string | null;
  completedBy: string | null;
  reward: number | null;
}

/**
 * What one batch of changes means for the read model. A task event counts on the business
 * day (in `timeZone`) of its own time — when the task was assigned or completed — and a
 * payout on the business day it pays for; nothing counts on when it was replicated.
 */
export function factsOf(changes: readonly TypedChange<OwnEventType>[], timeZone: string): BatchFacts {
  const earnings = new Map<string, DayEarnings>();
  const moves = new Map<string, BalanceMove>();
  const completions: Completion[] = [];
  const bestReward = new Map<string, number>();
  const dayOf = businessDays(timeZone);
  const earn = (day: string, fees: number, rewards: number) => {
    const known = earnings.get(day) ?? { day, fees: 0, rewards: 0 };
    known.fees += fees;
    known.rewards += rewards;
    earnings.set(day, known);
  };
  const move = (userId: string, day: string, amount: number) => {
    const key = `${userId}|${day}`;
    const known = moves.get(key) ?? { userId, day, amount: 0 };
    known.amount += amount;
    moves.set(key, known);
  };

  for (const change of changes) {
    switch (change.type) {
      case 'task.assigned': {
        const { assigneeId, fee, assignedAt } = change.payload;
        const day = dayOf(assignedAt);
        earn(day, fee, 0);
        move(assigneeId, day, -fee);
        break;
      }
      case 'task.completed': {
        const { assigneeId, reward, completedAt, taskId, title, jiraId } = change.payload;
        const day = dayOf(completedAt);
        earn(day, 0, reward);
        move(assigneeId, day, reward);
        const best = bestReward.get(day);
        if (best === undefined || reward >= best) {
          bestReward.set(day, reward);
          completions.push({ day, taskId, title, jiraId, reward, completedAt });
        }
        break;
      }
      case 'payout.made': {
        // A payout counts on the day it pays for, as accounting books it — not on the day
        // it was paid, which after a catch-up close is later.
        const { userId, amount, businessDay } = change.payload;
        move(userId, businessDay, -amount);
        break;
      }
      case 'task.created':
        break; // tells no money: only where the task came from (originsOf)
    }
  }
  return {
    earnings: [...earnings.values()],
    // Only each day's best reward can win that day; the database breaks the ties (read-model.ts).
    completions: completions.filter((completion) => completion.reward === bestReward.get(completion.day)),
    moves: [...moves.values()],
    origins: originsOf(changes, dayOf),
  };
}

/** Each task's origin facts in the batch; where the batch tells one twice, the first in log order holds. */
function originsOf(changes: readonly TypedChange<OwnEventType>[], dayOf: (iso: string) => string): TaskOrigin[] {
  const origins = new Map<string, TaskOrigin>();
  const originOf = (taskId: string): TaskOrigin => {
    let origin = origins.get(taskId);
    if (!origin) {
      origin = { taskId, createdBy: null, createdDay: null, creationAssignee: null, completedBy: null, reward: null };
      origins.set(taskId, origin);
    }
    return origin;
  };
  for (const change of changes) {
    if (change.type === 'task.created') {
      const origin = originOf(change.payload.taskId);
      origin.createdDay ??= dayOf(change.payload.createdAt);
      origin.createdBy ??= change.payload.createdBy;
    } else if (change.type === 'task.assigned' && change.payload.reason === 'created') {
      originOf(change.payload.taskId).creationAssignee ??= change.payload.assigneeId;
    } else if (change.type === 'task.completed') {
      const origin = originOf(change.payload.taskId);
      if (origin.completedBy !== null) continue;
      origin.completedBy = change.payload.assigneeId;
      origin.reward = change.payload.reward;
    }
  }
  return [...origins.values()];
}

const SLOT_MS = 15 * 60 * 1000;

/**
 * `businessDayOf` for many instants, asked once per UTC quarter hour: today every zone's
 * offset, and every change of it, falls on a quarter hour, so no local midnight lies
 * inside one. A quarter hour whose two ends fall on different days anyway (a historical
 * offset such as Monrovia's −0:44:30) is not cached: each of its instants is asked.
 */
function businessDays(timeZone: string): (iso: string) => string {
  const slots = new Map<number, string | null>();
  return (iso) => {
    const instant = Date.parse(iso);
    const slot = Math.floor(instant / SLOT_MS);
    let day = slots.get(slot);
    if (day === undefined) {
      const first = businessDayOf(new Date(slot * SLOT_MS), timeZone);
      day = first === businessDayOf(new Date((slot + 1) * SLOT_MS - 1), timeZone) ? first : null;
      slots.set(slot, day);
    }
    return day ?? businessDayOf(new Date(instant), timeZone);
  };
}
