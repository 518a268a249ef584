import { createLogger } from '@popug/lib/logger';
import { addDays, endOfBusinessDay } from '@popug/lib/business-day';
import { SOURCE_TRANSACTION_LIMIT_MS } from '@popug/lib/replication/completeness';
import { isolateTestFile } from '@popug/testing/isolation';
import { payoutBeds } from './fixtures/bed';
import { addMoney, createUsers } from './fixtures/ledger';

/**
 * Days in zones whose clocks jump over midnight (the day after has no 00:00) and one whose
 * last hour before midnight is lived twice: each is closed once, as soon as the next local
 * date begins and the source transaction limit has passed (docs/architecture.md, Business
 * days), and not a moment before.
 */
const base = isolateTestFile();
const logger = createLogger('dst-close-test');
const { bed, closeBeds } = payoutBeds(base, logger);
afterAll(closeBeds);

const ZONES = [
  { zone: 'America/Santiago', day: '2025-09-06', kind: 'gap' },
  { zone: 'America/Havana', day: '2025-03-08', kind: 'gap' },
  { zone: 'America/Asuncion', day: '2024-10-05', kind: 'gap' },
  { zone: 'America/Santiago', day: '2025-04-05', kind: 'overlap' },
] as const;

test.each(ZONES)('$zone: $day (midnight $kind) is closed once, the limit after the first instant of the next date', async ({ zone, day, kind }) => {
  const end = new Date(endOfBusinessDay(day, zone).getTime() + SOURCE_TRANSACTION_LIMIT_MS);
  const made = await bed(`${kind}${zone.replace(/\W/g, '').toLowerCase()}`, new Date(end.getTime() - 1), { BUSINESS_TZ: zone });
  const users = await createUsers(made.accounting, 5, 'dst');
  await addMoney(made.accounting, users.map((userId) => ({ userId, day, amount: 1234 })));
  const worker = await made.start();
  await worker.tick();
  expect((await made.accounting.query('select 1 from closed_days')).rowCount).toBe(0); // one millisecond before its end

  made.clock.set(end);
  await worker.tick();
  made.clock.set(new Date(endOfBusinessDay(addDays(day, 1), zone).getTime() + SOURCE_TRANSACTION_LIMIT_MS)); // the next day ends too: still one close of `day`
  await worker.tick();
  await worker.tick();
  const { rows } = await made.accounting.query<{ day: string; payouts: string }>(
    `select to_char(c.business_day, 'YYYY-MM-DD') as day, (select count(*) from payouts p where p.business_day = c.business_day)::text as payouts
       from closed_days c order by c.business_day`,
  );
  expect(rows).toEqual([
    { day, payouts: '5' },
    { day: addDays(day, 1), payouts: '0' },
  ]);
}, 60_000);
