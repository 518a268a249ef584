/**
 * Balances over business days, replayed for one batch of money movements. Pure: the SQL
 * around it (read-model.ts) loads what it needs and writes what it returns.
 *
 * A popug's balance at the end of day D is the sum of its movements on days up to D.
 * `daily_balances` stores it for each day the popug had a movement; `negative_balance_counts`
 * stores, for each day the number changes, how many popugs are below zero at its end.
 * A batch moves some popugs' balances on some days (mostly today, but a late event may
 * land on an earlier day and shift every later day of that popug too); this works out the
 * new balance rows and by how much the negative count changes from each day on.
 */

/** The net movement of one popug's balance on one business day, in cents. */
export interface BalanceMove {
  userId: string;
  day: string;
  amount: number;
}

/** A popug's balance at the end of `day`. */
export interface BalanceRow {
  userId: string;
  day: string;
  balance: number;
}

export interface BalanceReplay {
  /** Rows to upsert: every day of a moved popug from its earliest moved day on. */
  rows: BalanceRow[];
  /**
   * Day → change of the negative count from that day on (non-zero only): the count at the
   * end of day X changes by the sum of the steps on days up to X.
   */
  countSteps: Map<string, number>;
}

/** Each moved popug's earliest moved day: the rows to load start there (plus the one before). */
export function firstMovedDays(moves: readonly BalanceMove[]): Map<string, string> {
  const first = new Map<string, string>();
  for (const move of moves) {
    const known = first.get(move.userId);
    if (known === undefined || move.day < known) first.set(move.userId, move.day);
  }
  return first;
}

/**
 * `known` must hold, for each moved popug, every stored row from its earliest moved day on
 * and the last stored row before that day (its balance going in), if any.
 */
export function replayBalances(moves: readonly BalanceMove[], known: readonly BalanceRow[]): BalanceReplay {
  const movesByUser = groupByUser(moves);
  const knownByUser = groupByUser(known);
  const rows: BalanceRow[] = [];
  const countSteps = new Map<string, number>();

  for (const [userId, userMoves] of movesByUser) {
    const moved = new Map<string, number>();
    for (const move of userMoves) moved.set(move.day, (moved.get(move.day) ?? 0) + move.amount);
    const firstDay = [...moved.keys()].sort()[0] ?? '';
    const stored = new Map<string, number>();
    let before = 0; // the balance going into the first moved day
    let beforeDay = '';
    for (const row of knownByUser.get(userId) ?? []) {
      if (row.day >= firstDay) stored.set(row.day, row.balance);
      else if (row.day > beforeDay) {
        beforeDay = row.day;
        before = row.balance;
      }
    }

    let oldBalance = before;
    let shift = 0; // what the batch added up to this day
    let previousSignChange = 0;
    for (const day of [...new Set([...stored.keys(), ...moved.keys()])].sort()) {
      oldBalance = stored.get(day) ?? oldBalance;
      shift += moved.get(day) ?? 0;
      const newBalance = oldBalance + shift;
      rows.push({ userId, day, balance: newBalance });
      // +1: negative from here on because of this batch, −1: no longer, 0: as before.
      const signChange = Number(newBalance < 0) - Number(oldBalance < 0);
      const step = signChange - previousSignChange;
      if (step !== 0) countSteps.set(day, (countSteps.get(day) ?? 0) + step);
      previousSignChange = signChange;
    }
  }
  for (const [day, step] of countSteps) if (step === 0) countSteps.delete(day);
  return { rows, countSteps };
}

function groupByUser<T extends { userId: string }>(items: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(item.userId);
    if (group) group.push(item);
    else groups.set(item.userId, [item]);
  }
  return groups;
}
