import { isolateTestFile } from '@popug/testing/isolation';
import { createTrackerServer } from '../../subgraphs/tracker/server';
import { testLogger } from '@popug/testing/stack';
import { systemForFile } from '../system';
import { startJobsProcess } from '../faults/fixtures/jobs-process';
import { restartService, stopService } from '../faults/fixtures/restartable';

/**
 * /live and /ready on every service (docs/operations.md "Operations"): ready names each
 * dependency it checked; the gateway's readiness follows a subgraph going away and back.
 */
const env = isolateTestFile();
const system = systemForFile(env);

async function probe(url: string): Promise<{ status: number; body: { status: string; checks?: Record<string, string> } }> {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as { status: string; checks?: Record<string, string> } };
}

const EXPECTED_CHECKS = {
  auth: { database: 'ok', redis: 'ok' },
  tracker: { database: 'ok' },
  accounting: { database: 'ok', redis: 'ok' },
  analytics: { database: 'ok' },
  gateway: { redis: 'ok', auth: 'ok', tracker: 'ok', accounting: 'ok', analytics: 'ok' },
} as const;

describe('probes', () => {
  it.each(Object.keys(EXPECTED_CHECKS) as (keyof typeof EXPECTED_CHECKS)[])('%s answers /live, and /ready with each dependency checked', async (name) => {
    const { url } = system().services[name];
    expect(await probe(`${url}/live`)).toEqual({ status: 200, body: { status: 'ok', service: name } });
    expect(await probe(`${url}/ready`)).toEqual({ status: 200, body: { status: 'ready', service: name, checks: EXPECTED_CHECKS[name] } });
    expect((await fetch(`${url}/health`)).status).toBe(200);
  });

  it('the gateway is not ready while a subgraph is away, and is again once it is back; it stays live', async () => {
    const gateway = system().services.gateway.url;
    await stopService(system().services.tracker);
    try {
      const away = await probe(`${gateway}/ready`);
      expect(away.status).toBe(503);
      expect(away.body.checks).toEqual({ ...EXPECTED_CHECKS.gateway, tracker: 'down' });
      expect((await probe(`${gateway}/live`)).status).toBe(200);
    } finally {
      await restartService(system().services.tracker, createTrackerServer, env, testLogger('tracker'));
    }
    expect((await probe(`${gateway}/ready`)).status).toBe(200);
  });

  it('the jobs worker answers /live, and /ready with its database and Redis', async () => {
    const jobs = await startJobsProcess();
    try {
      expect(await probe(`${jobs.origin}/live`)).toEqual({ status: 200, body: { status: 'ok', service: 'jobs' } });
      expect(await probe(`${jobs.origin}/ready`)).toEqual({ status: 200, body: { status: 'ready', service: 'jobs', checks: { database: 'ok', redis: 'ok' } } });
    } finally {
      await jobs.stop();
    }
  }, 60_000);
});
