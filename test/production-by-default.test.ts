import { existsSync } from 'node:fs';
import { getIntrospectionQuery } from 'graphql';
import { parseEnv, resetEnvCache } from '@popug/lib/env';
import { DOCUMENTED_ADMIN_PASSWORD } from '@popug/lib/service-secrets';
import { isolateTestFile } from '@popug/testing/isolation';
import { codesOf, dataOf, postGraphQL, startOnFreePort, testLogger, type RunningService } from '@popug/testing/stack';
import { createGateway } from '../gateway/server';
import { systemForFile } from './system';

/**
 * Tests run what production runs (testing/isolation.ts): a file that asks for nothing gets
 * NODE_ENV=production with secrets of its own, generates no key and documents no password,
 * and its services keep production's behaviour whatever process.env.NODE_ENV tells the
 * libraries underneath (Apollo Server, Apollo Gateway and Express read it for their defaults).
 */
const env = isolateTestFile();
const system = systemForFile(env);

/** A root field from auth and one from the tracker: a plan of two fetches, run by Apollo Gateway's executor. */
const TWO_SUBGRAPHS = '{ me { id } tasks(first: 1) { id } }';

describe('a test file that asks for nothing', () => {
  it('runs production, with secrets of its own in the environment', () => {
    expect(process.env.NODE_ENV).toBe('production');
    expect(env.NODE_ENV).toBe('production');
    expect(env.ADMIN_PASSWORD).not.toBe(DOCUMENTED_ADMIN_PASSWORD);
    expect([env.AUTH_PRIVATE_KEY, env.GATEWAY_PRIVATE_KEY]).toEqual([expect.stringContaining('BEGIN PRIVATE KEY'), expect.stringContaining('BEGIN PRIVATE KEY')]);
  });

  it('refuses introspection at the gateway, serves no playground, and generated no key under KEYS_DIR', async () => {
    const introspection = await system().request(getIntrospectionQuery());
    expect({ status: introspection.status, codes: codesOf(introspection) }).toEqual({ status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] });
    expect((await fetch(`${system().services.gateway.url}/playground`)).status).toBe(404);
    expect(existsSync(env.KEYS_DIR)).toBe(false);
  });

  it('signs the admin in with the file\'s password, never the documented one', async () => {
    await expect(system().login(env.ADMIN_EMAIL, DOCUMENTED_ADMIN_PASSWORD)).rejects.toThrow(/login failed/);
    expect(await system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD)).toEqual(expect.any(String));
  });
});

describe('a production gateway built while process.env.NODE_ENV says development', () => {
  let gateway: RunningService;
  beforeAll(async () => {
    const saved = process.env.NODE_ENV;
    process.env.NODE_ENV = 'development';
    try {
      const { AUTH_URL, TRACKER_URL, ACCOUNTING_URL, ANALYTICS_URL } = system().env;
      const gatewayEnv = parseEnv({ ...process.env, NODE_ENV: 'production', AUTH_URL, TRACKER_URL, ACCOUNTING_URL, ANALYTICS_URL });
      resetEnvCache();
      gateway = await startOnFreePort(await createGateway(gatewayEnv, testLogger('gateway')));
    } finally {
      process.env.NODE_ENV = saved;
    }
  });
  afterAll(async () => {
    await gateway?.close();
  });

  it('still refuses introspection and serves no playground', async () => {
    const introspection = await postGraphQL(`${gateway.url}/graphql`, '{ __schema { queryType { name } } }');
    expect({ status: introspection.status, codes: codesOf(introspection) }).toEqual({ status: 400, codes: ['GRAPHQL_VALIDATION_FAILED'] });
    expect((await fetch(`${gateway.url}/playground`)).status).toBe(404);
  });

  it('shows no query plan to a client that asks for one', async () => {
    const token = await system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    const answer = await postGraphQL<{ me: { id: string } }>(`${gateway.url}/graphql`, TWO_SUBGRAPHS, {}, { authorization: `Bearer ${token}`, 'apollo-query-plan-experimental': '1' });
    expect(dataOf(answer).me.id).toEqual(expect.any(String));
    expect(JSON.stringify(answer)).not.toMatch(/queryPlan|QueryPlan/);
  });
});
