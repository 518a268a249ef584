import { spawn } from 'node:child_process';
import { isolateTestFile } from '@popug/testing/isolation';
import { testLogger } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startReplicator, type ReplicatorWorker } from '../jobs/replicator/worker';
import { startSystem } from './system';

/**
 * `npm run seed` as the README tells it: in a shell with the environment the system was
 * started with. Twice, since it promises to be safe to run again; and with another shell's
 * port, where it must say what it tried and what to check.
 */
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200' });
let system: TestSystem;
let replication: ReplicatorWorker;

beforeAll(async () => {
  system = await startSystem(env);
  replication = await startReplicator(env, testLogger('replicator'));
}, 60_000);
afterAll(async () => {
  await replication?.close();
  await system?.close();
});

interface SeedRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runSeed(port: string): Promise<SeedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [require.resolve('tsx/cli'), 'scripts/seed.ts'], {
      cwd: `${__dirname}/..`,
      env: { ...process.env, PORT: port },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const gatewayPort = () => new URL(system.gatewayUrl).port;

async function countOf(field: 'users' | 'tasks', token: string): Promise<number> {
  const query = field === 'users' ? '{ users { id } }' : '{ tasks(first: 500) { id } }';
  const result = await system.request<Record<typeof field, unknown[]>>(query, {}, token);
  return result.data?.[field].length ?? -1;
}

describe('npm run seed', () => {
  it('makes the demo company with the environment the system was started with, and again without doubling anyone', async () => {
    const first = await runSeed(gatewayPort());
    expect(first).toMatchObject({ code: 0, stderr: '' });
    expect(first.stdout).toContain('demo company ready');

    const admin = await system.login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
    const people = await countOf('users', admin);
    expect(people).toBe(13); // the first admin and twelve demo popugs
    const tasks = await countOf('tasks', admin);
    expect(tasks).toBeGreaterThan(0);

    const second = await runSeed(gatewayPort());
    expect(second).toMatchObject({ code: 0, stderr: '' });
    expect(await countOf('users', admin)).toBe(people);
  }, 60_000);

  it("with another shell's port, says which gateway it tried and which environment to bring", async () => {
    const lost = await runSeed('1');
    expect(lost.code).toBe(1);
    expect(lost.stderr).toContain('http://127.0.0.1:1/graphql');
    expect(lost.stderr).toContain('same environment');
  }, 30_000);
});
