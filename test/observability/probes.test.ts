import { parseEnv, resetEnvCache } from '@popug/lib/env';
import { isolateTestFile } from '@popug/testing/isolation';
import { signInAdmin, type TestUser } from '@popug/testing/people';
import { freePort } from '@popug/testing/ports';
import { codesOf, startOnFreePort, testLogger, type RunningService } from '@popug/testing/stack';
import { graphClient, type GraphClient } from '@popug/testing/system';
import { createGateway } from '../../gateway/server';
import { createAnalyticsServer } from '../../subgraphs/analytics/server';
import { QUEUE_BOARD_PATH } from '../../jobs/queue-board';
import { systemForFile } from '../system';
import { startJobsProcess } from '../faults/fixtures/jobs-process';
import { restartService, stopService } from '../faults/fixtures/restartable';

/**
 * /live and /ready on every service's public port (docs/operations.md "Probes"): ready names
 * each check it made, and means "this process can serve" — the gateway stays ready with a
 * subgraph away, answering what the others can. /health and /metrics (and the jobs worker's
 * queue board) answer on the internal port only.
 */
const env = isolateTestFile();
const system = systemForFile(env);
let admin: TestUser;

beforeAll(async () => {
  admin = await signInAdmin(system(), env);
});

interface ProbeBody {
  status: string;
  checks?: Record<string, string>;
  subgraphs?: Record<string, string>;
}

async function probe(url: string): Promise<{ status: number; body: ProbeBody }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as ProbeBody };
}

const EXPECTED_CHECKS = {
  auth: { database: 'ok' },
  tracker: { database: 'ok' },
  accounting: { database: 'ok' },
  analytics: { database: 'ok' },
  gateway: { supergraph: 'ok', signing: 'ok' },
} as const;
const ALL_SUBGRAPHS_OK = { auth: 'ok', tracker: 'ok', accounting: 'ok', analytics: 'ok' };

describe('probes', () => {
  it.each(Object.keys(EXPECTED_CHECKS) as (keyof typeof EXPECTED_CHECKS)[])('%s answers /live, and /ready with each of its own checks', async (name) => {
    const { url } = system().services[name];
    expect(await probe(`${url}/live`)).toEqual({ status: 200, body: { status: 'ok', service: name } });
    expect(await probe(`${url}/ready`)).toEqual({ status: 200, body: { status: 'ready', service: name, checks: EXPECTED_CHECKS[name] } });
  });

  it.each(Object.keys(EXPECTED_CHECKS) as (keyof typeof EXPECTED_CHECKS)[])('%s serves /health and /metrics on its internal port only', async (name) => {
    const { url, internalUrl } = system().services[name];
    expect((await fetch(`${internalUrl}/health`)).status).toBe(200);
    const metrics = await fetch(`${internalUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain(`service="${name}"`);
    expect((await fetch(`${url}/health`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    // Nothing of the public port on the internal one either.
    expect((await fetch(`${internalUrl}/ready`)).status).toBe(404);
  });

  it("the gateway's /health lists each subgraph as it reaches it", async () => {
    expect(await probe(`${system().services.gateway.internalUrl}/health`)).toEqual({ status: 200, body: { status: 'ok', service: 'gateway', subgraphs: ALL_SUBGRAPHS_OK } });
  });

  it('the gateway stays ready while a subgraph is away, answers from the others, and reports it degraded on /health', async () => {
    const { gateway, analytics } = system().services;
    await stopService(analytics);
    try {
      expect(await probe(`${gateway.url}/ready`)).toEqual({ status: 200, body: { status: 'ready', service: 'gateway', checks: EXPECTED_CHECKS.gateway } });
      expect(await probe(`${gateway.internalUrl}/health`)).toEqual({ status: 503, body: { status: 'degraded', service: 'gateway', subgraphs: { ...ALL_SUBGRAPHS_OK, analytics: 'down' } } });
      // A query touching only live subgraphs is answered in full.
      const tasks = await system().request<{ me: { id: string }; myTasks: unknown[] }>('query MyTasks { me { id } myTasks { id } }', {}, admin.token);
      expect({ errors: tasks.errors, me: tasks.data?.me.id, tasks: Array.isArray(tasks.data?.myTasks) }).toEqual({ errors: undefined, me: admin.id, tasks: true });
      // One touching the dead one too: the live part answered, the dead part an error in its place.
      const partial = await system().request<{ me: { id: string }; mostExpensiveTask: unknown }>('query Partial { me { id } mostExpensiveTask(period: DAY) { reward } }', {}, admin.token);
      expect(partial.data).toEqual({ me: { id: admin.id }, mostExpensiveTask: null });
      // One error for the unreachable subgraph's fetch (the gateway's own, carrying no path).
      expect(codesOf(partial)).toHaveLength(1);
    } finally {
      await restartService(analytics, createAnalyticsServer, env, testLogger('analytics'));
    }
    expect((await probe(`${gateway.internalUrl}/health`)).status).toBe(200);
  });

  it('the jobs worker answers /live and /ready (its database and Redis) publicly, /health, /metrics and the queue board internally', async () => {
    const jobs = await startJobsProcess();
    try {
      expect(await probe(`${jobs.origin}/live`)).toEqual({ status: 200, body: { status: 'ok', service: 'jobs' } });
      expect(await probe(`${jobs.origin}/ready`)).toEqual({ status: 200, body: { status: 'ready', service: 'jobs', checks: { database: 'ok', redis: 'ok' } } });
      expect((await fetch(jobs.healthUrl)).status).toBe(200);
      expect((await fetch(`${jobs.internalOrigin}/metrics`)).status).toBe(200);
      // The board asks for a token: it is there, behind its own sign-in.
      expect((await fetch(`${jobs.internalOrigin}${QUEUE_BOARD_PATH}/api/queues`)).status).toBe(401);
      for (const path of ['/health', '/metrics', `${QUEUE_BOARD_PATH}/api/queues`, QUEUE_BOARD_PATH]) {
        expect({ path, status: (await fetch(`${jobs.origin}${path}`, { redirect: 'manual' })).status }).toEqual({ path, status: 404 });
      }
    } finally {
      await jobs.stop();
    }
  }, 60_000);
});

/** Another gateway over the system's subgraphs, its Redis (sign-in throttling) at a port nobody listens on. */
async function startGatewayWithRedisAt(port: number): Promise<RunningService & { client: GraphClient }> {
  const { AUTH_URL, TRACKER_URL, ACCOUNTING_URL, ANALYTICS_URL } = system().env;
  const gatewayEnv = parseEnv({ ...process.env, REDIS_URL: `redis://127.0.0.1:${port}`, AUTH_URL, TRACKER_URL, ACCOUNTING_URL, ANALYTICS_URL });
  resetEnvCache();
  const running = await startOnFreePort(await createGateway(gatewayEnv, testLogger('gateway-without-redis')));
  return Object.assign(running, { client: graphClient(`${running.url}/graphql`) });
}

describe('a gateway whose Redis does not answer', () => {
  it('stays ready, answers queries, and signs in with its throttle counting in memory; /health says Redis is unreachable', async () => {
    const gateway = await startGatewayWithRedisAt(await freePort());
    try {
      expect(await probe(`${gateway.url}/ready`)).toEqual({ status: 200, body: { status: 'ready', service: 'gateway', checks: EXPECTED_CHECKS.gateway } });
      expect(await probe(`${gateway.internalUrl}/health`)).toEqual({
        status: 503,
        body: { status: 'degraded', service: 'gateway', subgraphs: ALL_SUBGRAPHS_OK, redis: 'unreachable' },
      });
      const token = await gateway.client.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
      const me = await gateway.client.request<{ me: { id: string } }>('query Me { me { id } }', {}, token);
      expect(me).toEqual({ status: 200, data: { me: { id: admin.id } } });
    } finally {
      await gateway.close();
    }
  }, 30_000);
});
