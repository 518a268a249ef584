import { today as todayIn } from '@popug/lib/business-day';
import { MAX_PAGE_ROWS } from '../services/transaction-page';
import { OPS, codesOf, dataOf, madeUpTask, startTestbed, type Testbed, type TestUser } from './accounting-testkit';

/**
 * `transactions(first, after)`: a walk through the pages of a day's audit log returns every
 * row of its start exactly once, in the whole day's order, while rows are booked between
 * pages (some in the same microsecond, so ties on created_at are broken by id); a bad
 * `first` or a cursor we did not hand out is BAD_USER_INPUT. Without the arguments the
 * contract's MyAccount still answers the whole day.
 */
const TZ = 'UTC';
let bed: Testbed;
let popug: TestUser;

const PAGE = `query AuditLogPage($day: Date, $first: Int, $after: String) {
  myAccount { balance transactions(day: $day, first: $first, after: $after) { id amount cursor } }
}`;

interface PageRow {
  id: string;
  amount: number;
  cursor: string;
}

beforeAll(async () => {
  bed = await startTestbed({ env: { BUSINESS_TZ: TZ } });
  popug = await bed.user('worker', 'pager');
  await bed.replicate();
}, 60_000);
afterAll(async () => {
  await bed?.close();
});

const page = async (variables: Record<string, unknown>) => bed.system.request<{ myAccount: { balance: number; transactions: PageRow[] } }>(PAGE, variables, popug.token);

/** `count` rows for the popug and its balance moved by them, all stamped with one created_at (ties), as one batch of the replicator would book them. */
async function bookRows(count: number, amount: number): Promise<void> {
  await bed.accounting.query(
    `with booked as (
       insert into transactions (user_id, kind, amount, description, business_day, created_at)
       select $1::uuid, 'ASSIGN_FEE', $2::bigint, 'Assign fee for a paged task ' || g, $3::date, now() from generate_series(1, $4::int) g
       returning amount
     )
     update accounts set balance = balance + (select sum(amount) from booked) where user_id = $1::uuid`,
    [popug.id, amount, todayIn(TZ), count],
  );
}

test('pages return every row of the walk start exactly once, newest first, while rows are booked between pages', async () => {
  const task = madeUpTask('A task booked through the replicator');
  await bed.emitTaskEvents([{ type: 'task.assigned', payload: { ...task, assigneeId: popug.id, fee: 1500, reason: 'created', assignedAt: new Date().toISOString() } }]);
  await bed.replicate();
  await bookRows(23, -7);
  const whole = dataOf(await bed.system.request<{ myAccount: { transactions: { id: string }[] } }>(OPS.myAccount, {}, popug.token)).myAccount.transactions.map(({ id }) => id);
  expect(whole).toHaveLength(24);

  const seen: string[] = [];
  let after: string | undefined;
  for (let pages = 0; pages < 20; pages++) {
    const rows = dataOf(await page({ first: 5, after })).myAccount.transactions;
    seen.push(...rows.map(({ id }) => id));
    if (rows.length < 5) break;
    after = rows.at(-1)?.cursor;
    await bookRows(3, -11); // newer than every cursor handed out: never on a later page
  }
  expect(seen).toEqual(whole);
});

test('a page after the last row is empty; balance and a page come in one answer', async () => {
  const rows = dataOf(await page({ first: MAX_PAGE_ROWS })).myAccount;
  const last = rows.transactions.at(-1)?.cursor;
  expect(rows.balance).toBe(rows.transactions.reduce((sum, row) => sum + row.amount, 0));
  expect(dataOf(await page({ first: 1, after: last })).myAccount.transactions).toEqual([]);
});

test('a bad first or after is BAD_USER_INPUT', async () => {
  const [someRow] = dataOf(await page({ first: 1 })).myAccount.transactions;
  for (const variables of [{ first: 0 }, { first: -3 }, { first: MAX_PAGE_ROWS + 1 }, { after: 'not-a-cursor' }, { first: 5, after: Buffer.from('12:x').toString('base64url') }, { after: `${someRow?.cursor ?? ''}=` }]) {
    expect(codesOf(await page(variables))).toEqual(['BAD_USER_INPUT']);
  }
});
