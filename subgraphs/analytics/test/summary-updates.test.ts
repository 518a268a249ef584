import { Pool } from 'pg';
import { today } from '@popug/lib/business-day';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { contractOperation } from '@popug/testing/contract';
import { isolateTestFile } from '@popug/testing/isolation';
import { signInAdmin, type TestUser } from '@popug/testing/people';
import { dataOf } from '@popug/testing/stack';
import { callerOf, subgraphSubscriptions, type SubgraphSubscriptions } from '@popug/testing/subgraph-subscriptions';
import { systemForFile } from '../../../test/system';

/**
 * analyticsUpdated, subscribed over graphql-ws straight at analytics as the gateway does.
 * The replicator's applies are stood in for by writes to the tables the summary reads
 * (their triggers notify as the applies' do): a change is sent once, coalesced, only when
 * the summary differs; analytics:view is checked at subscribe and at every re-read.
 */

const TIME_ZONE = 'Pacific/Kiritimati';
const env = isolateTestFile({ BUSINESS_TZ: TIME_ZONE });
const system = systemForFile(env);
const ANALYTICS_UPDATES = contractOperation('AnalyticsUpdates');

let analytics: Pool;
let admin: TestUser;
let live: SubgraphSubscriptions;

beforeAll(async () => {
  analytics = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'analytics')), max: 2 });
  admin = await signInAdmin(system(), env);
  live = subgraphSubscriptions(env, system().services.analytics.url, 'analytics');
});

afterAll(async () => {
  await live?.dispose();
  await analytics?.end();
});

const book = (day: string, fees: number, rewards: number) =>
  analytics.query(
    `insert into daily_earnings (day, fees, rewards) values ($1, $2, $3)
     on conflict (day) do update set fees = daily_earnings.fees + excluded.fees, rewards = daily_earnings.rewards + excluded.rewards`,
    [day, fees, rewards],
  );
const summaries = (events: { data?: unknown }[]) => events.map((event) => (event.data as { analyticsUpdated: unknown } | null)?.analyticsUpdated ?? null);
const codes = (events: { errors?: readonly { extensions?: Record<string, unknown> }[] }[]) => events.flatMap((event) => (event.errors ?? []).map((error) => error.extensions?.code));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('analyticsUpdated at analytics', () => {
  it("sends today's summary (BUSINESS_TZ) when it changes, a burst as one event, nothing when it stays the same", async () => {
    const day = today(TIME_ZONE);
    const todays = live.subscribe(ANALYTICS_UPDATES, callerOf(admin));
    const pinned = live.subscribe(ANALYTICS_UPDATES, callerOf(admin), { day: '2020-02-02' });
    await pause(600);
    await book(day, 1000, 0);
    await todays.waitForEvents(1);
    // Five applies within the 200 ms after that read: one more re-read, one event.
    for (let index = 0; index < 5; index++) await book(day, 1000, 0);
    await todays.waitForEvents(2);
    await pause(500);
    expect(summaries(todays.events)).toEqual([
      { day, managementEarnings: 1000, negativeBalanceCount: 0 },
      { day, managementEarnings: 6000, negativeBalanceCount: 0 },
    ]);

    await book(day, 0, 0); // a write that changes nothing the summary shows
    await pause(500);
    expect(todays.events).toHaveLength(2);
    await book(day, 0, 3000);
    await todays.waitForEvents(3);
    expect(summaries(todays.events).at(-1)).toEqual({ day, managementEarnings: 3000, negativeBalanceCount: 0 });
    // The pinned day did not change.
    expect(pinned.events).toEqual([]);
    await book('2020-02-02', 100, 0);
    await pinned.waitForEvents(1);
    expect(summaries(pinned.events)).toEqual([{ day: '2020-02-02', managementEarnings: 100, negativeBalanceCount: 0 }]);
    todays.stop();
    pinned.stop();
  });

  it('refuses a malformed day (BAD_USER_INPUT) and a role without analytics:view (FORBIDDEN)', async () => {
    const malformed = live.subscribe(ANALYTICS_UPDATES, callerOf(admin), { day: '2020-13-45' });
    const worker = live.subscribe(ANALYTICS_UPDATES, callerOf({ ...admin, role: 'worker' }));
    await malformed.waitForEnd();
    await worker.waitForEnd();
    expect(codes(malformed.events)).toEqual(['BAD_USER_INPUT']);
    expect(codes(worker.events)).toEqual(['FORBIDDEN']);
  });

  it('ends the stream with FORBIDDEN once the role loses analytics:view', async () => {
    const grant = (granted: boolean) =>
      system().request(
        'mutation ($granted: Boolean!) { setAnalyticsPermission(role: "manager", permission: "analytics:view", granted: $granted) { role } }',
        { granted },
        admin.token,
      );
    dataOf(await grant(true));
    const managers = live.subscribe(ANALYTICS_UPDATES, callerOf({ ...admin, role: 'manager' }));
    await pause(600);
    dataOf(await grant(false));
    await book(today(TIME_ZONE), 1, 0);
    await managers.waitForEnd();
    expect(codes(managers.events)).toEqual(['FORBIDDEN']);
  });
});
