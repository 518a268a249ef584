import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { Env } from '@popug/lib/env';
import { freePort } from '@popug/testing/ports';
import { productionSettings } from '@popug/testing/production-settings';
import { ensureBuild } from '../../scripts/build';
import { compiledService, ROOT, startChild, waitForHealth } from '../processes';
import { writeHiveConfigs } from './hive';
import { SUBGRAPHS, type Gateway, type SubgraphName } from './targets';
import { BENCH_LIMITS } from '../limits';

// The command the package declares (its `bin`), as npm links it.
const HIVE_BIN = join(ROOT, 'node_modules/.bin/hive-gateway');

/** The running services: where to reach each and which process it is. */
export interface Stack {
  subgraphUrls: Record<SubgraphName, string>;
  gatewayUrls: Record<Gateway, string>;
  pids: Record<SubgraphName | Gateway, number>;
}

/** Starting seven Node services at once can take minutes when the host is busy with other work. */
const STARTUP_MS = 180_000;

const url = (port: number) => `http://127.0.0.1:${port}/graphql`;

/**
 * The four subgraphs, our gateway and two Hive Gateways (JavaScript and Rust planners), each
 * in its own process, as in production, so the load client's CPU (this process) is charged
 * to no server. Every child is pushed onto `children` as it starts, for the caller to stop.
 * `env` is the bench's own (development) settings, whose keys the services are given;
 * `hiveExtra`, more properties of both Hive configs (bench/gateway/hive.ts).
 */
export async function startStack(children: ChildProcess[], scratch: string, env: Env, hiveExtra = ''): Promise<Stack> {
  await ensureBuild();
  const ports = Object.fromEntries(await Promise.all(SUBGRAPHS.map(async (name) => [name, await freePort()]))) as Record<SubgraphName, number>;
  const subgraphUrls = Object.fromEntries(SUBGRAPHS.map((name) => [name, url(ports[name])])) as Record<SubgraphName, string>;
  // Every popug signs up from the bench's one address: per-address sign-up limits would stop the seeding.
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...productionSettings(env), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...BENCH_LIMITS };
  for (const name of SUBGRAPHS) {
    childEnv[`${name.toUpperCase()}_PORT`] = String(ports[name]);
    childEnv[`${name.toUpperCase()}_INTERNAL_PORT`] = String(await freePort());
    childEnv[`${name.toUpperCase()}_URL`] = subgraphUrls[name];
  }
  const start = (name: string, command: string[], env = childEnv, cwd?: string) => {
    const child = startChild(name, command, env, cwd);
    children.push(child);
    return child.pid ?? 0;
  };
  const subgraphPids = Object.fromEntries(SUBGRAPHS.map((name) => [name, start(name, compiledService(`subgraphs/${name}/index.ts`))])) as Record<SubgraphName, number>;
  await Promise.all(SUBGRAPHS.map((name) => waitForHealth(`http://127.0.0.1:${ports[name]}/ready`, STARTUP_MS)));

  const gatewayPorts: Record<Gateway, number> = { ours: await freePort(), hiveJs: await freePort(), hiveRust: await freePort() };
  const hive = writeHiveConfigs(scratch, subgraphUrls, hiveExtra);
  const hiveEnv = { ...process.env, NODE_ENV: 'production' };
  const hiveCommand = (config: string, port: number) => [process.execPath, HIVE_BIN, 'supergraph', hive.supergraph, '--config-path', config, '--host', '127.0.0.1', '--port', String(port), '--fork', '1'];
  const pids = {
    ...subgraphPids,
    ours: start('gateway', compiledService('gateway/index.ts', process.env.BENCH_GATEWAY_CPU_PROF), { ...childEnv, PORT: String(gatewayPorts.ours), GATEWAY_INTERNAL_PORT: String(await freePort()) }),
    hiveJs: start('hive-js', hiveCommand(hive.js, gatewayPorts.hiveJs), hiveEnv, scratch),
    hiveRust: start('hive-rust', hiveCommand(hive.rust, gatewayPorts.hiveRust), hiveEnv, scratch),
  };
  await waitForHealth(`http://127.0.0.1:${gatewayPorts.ours}/ready`, STARTUP_MS);
  await Promise.all([gatewayPorts.hiveJs, gatewayPorts.hiveRust].map((port) => waitForHealth(`http://127.0.0.1:${port}/healthcheck`, STARTUP_MS)));
  const gatewayUrls = { ours: url(gatewayPorts.ours), hiveJs: url(gatewayPorts.hiveJs), hiveRust: url(gatewayPorts.hiveRust) };
  return { subgraphUrls, gatewayUrls, pids };
}
