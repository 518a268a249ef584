import { parseEnv, resetEnvCache, type Env } from '../lib/env';
import type { Service } from '../lib/subgraph/serve';
import { postGraphQL, startOnFreePort, testLogger, type GraphQLResponse, type RunningService } from './stack';
import { runOneShotSteps } from './one-shot-steps';

type Builder = (env: Env, logger: ReturnType<typeof testLogger>) => Promise<Service>;

export interface SystemBuilders {
  auth: Builder;
  tracker: Builder;
  accounting: Builder;
  analytics: Builder;
  gateway: Builder;
}

/** What one service's environment changes from the file's (its own REDIS_URL, say), as each Deployment sets its own. */
export type ServiceEnvOverrides = Partial<Record<keyof SystemBuilders, Partial<Env>>>;

export interface TestSystem {
  env: Env;
  gatewayUrl: string;
  services: Record<keyof SystemBuilders, RunningService>;
  /** Runs an operation through the gateway, signed in with `token` when given. */
  request<TData = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, token?: string): Promise<GraphQLResponse<TData>>;
  /** Signs in through the gateway and returns the token. */
  login(email: string, password: string): Promise<string>;
  close(): Promise<void>;
}

/** What a client of the API needs: operations, and signing in. */
export type GraphClient = Pick<TestSystem, 'request' | 'login'>;

/** A client of the gateway at `gatewayUrl` (its /graphql), as any outside client talks to it. */
export function graphClient(gatewayUrl: string): GraphClient {
  const request: TestSystem['request'] = (query, variables = {}, token) =>
    postGraphQL(gatewayUrl, query, variables, token ? { authorization: `Bearer ${token}` } : {});
  return {
    request,
    async login(email, password) {
      const result = await request<{ login: { token: string } }>(
        'mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { token } }',
        { email, password },
      );
      const token = result.data?.login.token;
      if (!token) throw new Error(`login failed: ${JSON.stringify(result.errors)}`);
      return token;
    },
  };
}

/**
 * The whole federated system in this process on free loopback ports, with real
 * PostgreSQL and Redis under the test file's own prefixes (see isolation.ts), its
 * databases created and migrated and its first admin made first, as the deployments'
 * one-shot steps do.
 */
export async function startTestSystem(builders: SystemBuilders, env: Env, overrides: ServiceEnvOverrides = {}): Promise<TestSystem> {
  await runOneShotSteps(env);
  const started: RunningService[] = [];
  const start = async (name: keyof SystemBuilders, serviceEnv: Env) => {
    const running = await startOnFreePort(await builders[name]({ ...serviceEnv, ...overrides[name] }, testLogger(name)));
    started.push(running);
    return running;
  };
  try {
    const [auth, tracker, accounting, analytics] = await Promise.all([
      start('auth', env),
      start('tracker', env),
      start('accounting', env),
      start('analytics', env),
    ]);
    const gatewayEnv = parseEnv({
      ...process.env,
      AUTH_URL: `${auth.url}/graphql`,
      TRACKER_URL: `${tracker.url}/graphql`,
      ACCOUNTING_URL: `${accounting.url}/graphql`,
      ANALYTICS_URL: `${analytics.url}/graphql`,
    });
    resetEnvCache();
    const gateway = await start('gateway', gatewayEnv);
    const gatewayUrl = `${gateway.url}/graphql`;
    const client = graphClient(gatewayUrl);
    return {
      env: gatewayEnv,
      gatewayUrl,
      services: { auth, tracker, accounting, analytics, gateway },
      ...client,
      async close() {
        for (const service of started.reverse()) await service.close();
      },
    };
  } catch (error) {
    for (const service of started.reverse()) await service.close().catch(() => undefined);
    throw error;
  }
}
