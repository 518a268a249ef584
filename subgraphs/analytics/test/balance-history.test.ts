import fc from 'fast-check';
import { firstMovedDays, replayBalances, type BalanceMove, type BalanceRow } from '../services/balance-history';

/**
 * The pure replay against a recomputation from all moves: whatever was stored before and
 * whichever days a batch touches (late ones included), the rows it returns are the true
 * end-of-day balances, and its steps turn the old negative count into the true new one.
 */

const USERS = ['a', 'b', 'c', 'd'];
const DAYS = ['2026-12-30', '2026-12-31', '2027-01-01', '2027-01-02', '2027-01-05', '2027-02-01'];

/** End-of-day balance of every user on every day it moved: the ledger the table should hold. */
function ledgerOf(moves: readonly BalanceMove[]): BalanceRow[] {
  const days = new Map<string, Set<string>>();
  for (const move of moves) days.set(move.userId, (days.get(move.userId) ?? new Set()).add(move.day));
  return [...days].flatMap(([userId, userDays]) =>
    [...userDays].map((day) => ({ userId, day, balance: balanceAt(moves, userId, day) })),
  );
}

const balanceAt = (moves: readonly BalanceMove[], userId: string, day: string) =>
  moves.filter((move) => move.userId === userId && move.day <= day).reduce((sum, move) => sum + move.amount, 0);

const negativeCountAt = (moves: readonly BalanceMove[], day: string) =>
  USERS.filter((user) => balanceAt(moves, user, day) < 0).length;

/** What read-model.ts loads for a batch: each moved user's rows from its first moved day, and the one before. */
function rowsToLoad(stored: readonly BalanceRow[], batch: readonly BalanceMove[]): BalanceRow[] {
  const from = firstMovedDays(batch);
  return [...from].flatMap(([userId, firstDay]) => {
    const own = stored.filter((row) => row.userId === userId).sort((x, y) => x.day.localeCompare(y.day));
    const before = own.filter((row) => row.day < firstDay).at(-1);
    return [...(before ? [before] : []), ...own.filter((row) => row.day >= firstDay)];
  });
}

const byKey = (rows: readonly BalanceRow[]) => [...rows].sort((x, y) => `${x.userId}${x.day}`.localeCompare(`${y.userId}${y.day}`));

const move = fc.record({
  userId: fc.constantFrom(...USERS),
  day: fc.constantFrom(...DAYS),
  amount: fc.oneof(fc.integer({ min: -2000, max: -1000 }), fc.integer({ min: 2000, max: 4000 }), fc.constant(0)),
});

test('a batch replays balances and negative-count steps exactly, late days included', () => {
  fc.assert(
    fc.property(fc.array(move, { maxLength: 30 }), fc.array(move, { minLength: 1, maxLength: 15 }), (before, batch) => {
      const stored = ledgerOf(before);
      const { rows, countSteps } = replayBalances(batch, rowsToLoad(stored, batch));

      const after = [...before, ...batch];
      const updated = new Map(stored.map((row) => [`${row.userId}|${row.day}`, row]));
      for (const row of rows) updated.set(`${row.userId}|${row.day}`, row);
      expect(byKey([...updated.values()])).toEqual(byKey(ledgerOf(after)));

      for (const day of DAYS) {
        const shift = [...countSteps].filter(([stepDay]) => stepDay <= day).reduce((sum, [, step]) => sum + step, 0);
        expect(negativeCountAt(before, day) + shift).toBe(negativeCountAt(after, day));
      }
      expect([...countSteps.values()].every((step) => step !== 0)).toBe(true);
    }),
    { numRuns: 500 },
  );
});

test('an assignment fee sends a popug below zero on its day, and a late reward on an earlier day lifts every later day', () => {
  const first = replayBalances([{ userId: 'a', day: '2027-01-02', amount: -1500 }], []);
  expect(first.rows).toEqual([{ userId: 'a', day: '2027-01-02', balance: -1500 }]);
  expect([...first.countSteps]).toEqual([['2027-01-02', 1]]);

  const late = replayBalances([{ userId: 'a', day: '2027-01-01', amount: 3000 }], first.rows);
  expect(late.rows).toEqual([
    { userId: 'a', day: '2027-01-01', balance: 3000 },
    { userId: 'a', day: '2027-01-02', balance: 1500 },
  ]);
  expect([...late.countSteps]).toEqual([['2027-01-02', -1]]);
});
