import { readFileSync } from 'node:fs';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { isolateTestFile } from '@popug/testing/isolation';
import { subscribeSse, subscribeWs, wsClient } from '@popug/testing/live';
import { register, signInAdmin, type TestUser } from '@popug/testing/people';
import { dataOf, type RunningService } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { MANIFEST_FILE } from '../gateway/trusted-documents';
import { replicateUntil } from './replicate-until';
import { startGatewayOver, startSystem } from './system';

/**
 * Subscriptions end to end (docs/architecture.md "Subscriptions"): the real subgraphs' graphql-ws
 * servers and change streams, the gateway's SSE and WebSocket transports, its per-event plan
 * (auth's fields on tracker's task), and the session checks that end a stream.
 */
const env = isolateTestFile();
const PASSWORD = 'live-updates-pw';
const TASK_UPDATES_WITH_AUTH_FIELDS = 'subscription { taskUpdated { id title status assignee { id active createdAt } } }';
const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as { operations: { id: string; name: string }[] };
const idOf = (name: string) => manifest.operations.find((operation) => operation.name === name)!.id;

let system: TestSystem;
let admin: TestUser;
let worker: TestUser;
let graphqlUrl: string;

type TaskEvent = { taskUpdated: { id: string; title: string; assignee: { id: string; active?: boolean; createdAt?: string } } };
const codeOf = (result: { errors?: { extensions?: { code?: string } }[] } | undefined) => result?.errors?.[0]?.extensions?.code;

async function createTask(title: string): Promise<string> {
  return dataOf(await system.request<{ createTask: { id: string } }>('mutation ($title: String!) { createTask(title: $title, description: "live") { id } }', { title }, admin.token)).createTask.id;
}

beforeAll(async () => {
  system = await startSystem(env);
  graphqlUrl = system.gatewayUrl;
  admin = await signInAdmin(system, env);
  const email = `live-${Date.now()}@popug.test`;
  const registered = await register(system, email, 'Live Worker', PASSWORD);
  worker = { ...registered, email, role: 'worker', token: await system.login(email, PASSWORD) };
  // The worker becomes a task receiver in the tracker once replicated there.
  const tracker = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'tracker')), max: 1 });
  tracker.on('error', () => undefined);
  try {
    await replicateUntil(env, async () => (await tracker.query('select 1 from users where id = $1', [worker.id])).rowCount === 1, 'the worker in tracker');
  } finally {
    await tracker.end();
  }
}, 90_000);
afterAll(async () => {
  await system?.close();
});

describe('live updates through the gateway and the subgraphs', () => {
  it('over SSE: a created task reaches its assignee with auth-only fields (assignee { active createdAt })', async () => {
    const sse = await subscribeSse(graphqlUrl, { query: TASK_UPDATES_WITH_AUTH_FIELDS }, worker.token);
    expect(sse.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300)); // the upstream subscription in place
    const id = await createTask('Live over SSE');
    const event = await sse.next();
    const task = (event?.data?.data as TaskEvent).taskUpdated;
    expect(task).toMatchObject({ id, title: 'Live over SSE', assignee: { id: worker.id, active: true } });
    expect(Number.isNaN(Date.parse(task.assignee.createdAt ?? ''))).toBe(false);
    sse.close();
  });

  it('over WebSocket, by the manifest id of TaskUpdates on a gateway that runs only the manifest', async () => {
    const enforced: RunningService = await startGatewayOver(system, { ALLOW_ARBITRARY_OPERATIONS: 'false' });
    try {
      const client = wsClient(`${enforced.url}/graphql`, worker.token);
      const live = subscribeWs(client, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: idOf('TaskUpdates') } } });
      await new Promise((resolve) => setTimeout(resolve, 300));
      const id = await createTask('Live over WebSocket');
      const result = await live.next();
      expect(result?.errors).toBeUndefined();
      expect((result?.data as TaskEvent).taskUpdated).toMatchObject({ id, title: 'Live over WebSocket', assignee: { id: worker.id } });
      live.unsubscribe();
      await client.dispose();
    } finally {
      await enforced.close();
    }
  });

  it('MyAccountUpdates over SSE: the fee of a task assigned to the worker, with its balance', async () => {
    const sse = await subscribeSse(graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: idOf('MyAccountUpdates') } } }, worker.token);
    expect(sse.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const id = await createTask('A task that costs a fee');
    type AccountUpdate = { myAccountUpdated: { balance: number; transaction: { kind: string; amount: number; task: { id: string } | null } } };
    // Fees of the earlier tests' tasks come first: read until this task's, while a replicator books them in accounting.
    const updates: AccountUpdate['myAccountUpdated'][] = [];
    const reading = (async () => {
      for (;;) {
        const event = await sse.next(20_000);
        if (!event || event.event !== 'next') return;
        updates.push((event.data?.data as AccountUpdate).myAccountUpdated);
        if (updates.at(-1)?.transaction.task?.id === id) return;
      }
    })();
    await replicateUntil(env, () => Promise.resolve(updates.some((update) => update.transaction.task?.id === id)), 'the fee delivered to the subscriber');
    await reading;
    const fee = updates.at(-1)!;
    expect(fee.transaction.amount).toBeLessThan(0);
    expect(typeof fee.balance).toBe('number');
    expect(updates.reduce((sum, update) => sum + update.transaction.amount, 0)).toBe(fee.balance);
    sse.close();
  });

  it("AnalyticsUpdates over WebSocket: today's summary as the fees move management's earnings", async () => {
    const client = wsClient(graphqlUrl, admin.token);
    const live = subscribeWs(client, { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: idOf('AnalyticsUpdates') } } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    await createTask('A task that moves the summary');
    type Summary = { analyticsUpdated: { day: string; managementEarnings: number; negativeBalanceCount: number } };
    const summaries: Summary['analyticsUpdated'][] = [];
    const reading = (async () => {
      const result = await live.next(20_000);
      if (result?.data) summaries.push((result.data as Summary).analyticsUpdated);
    })();
    await replicateUntil(env, () => Promise.resolve(summaries.length > 0), 'a summary delivered to the subscriber');
    await reading;
    expect(summaries[0]).toMatchObject({ day: expect.any(String), managementEarnings: expect.any(Number), negativeBalanceCount: expect.any(Number) });
    live.unsubscribe();
    await client.dispose();
  });

  it('ends the worker stream with ACCOUNT_DEACTIVATED within 5 s of a deactivation', async () => {
    const email = `leaver-${Date.now()}@popug.test`;
    const leaver = await register(system, email, 'Leaving Worker', PASSWORD);
    const token = await system.login(email, PASSWORD);
    const sse = await subscribeSse(graphqlUrl, { extensions: { persistedQuery: { version: 1, sha256Hash: idOf('TaskUpdates') } } }, token);
    expect(sse.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const started = Date.now();
    dataOf(await system.request('mutation ($id: ID!) { setUserActive(userId: $id, active: false) { id } }', { id: leaver.id }, admin.token));
    const ended = await sse.next(6000);
    expect(codeOf(ended?.data)).toBe('ACCOUNT_DEACTIVATED');
    expect(Date.now() - started).toBeLessThan(5000);
    expect((await sse.next())?.event).toBe('complete');
  });
});
