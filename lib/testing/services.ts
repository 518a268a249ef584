import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseEnv } from '../env';

/** A server the tests need, and how this machine can start it when it is not answering. */
interface Service {
  name: string;
  url: URL;
  defaultPort: number;
  /** The command that starts it here, or undefined when this machine cannot. */
  starter: () => { command: string; args: string[] } | undefined;
  hint: string;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const START_WAIT_MS = 30_000;

function answers(url: URL, defaultPort: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || defaultPort) });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.setTimeout(2000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const isRoot = () => process.getuid?.() === 0;

function postgresStarter(): { command: string; args: string[] } | undefined {
  if (!isRoot() || !existsSync('/usr/bin/pg_ctlcluster') || !existsSync('/etc/postgresql')) return undefined;
  const version = readdirSync('/etc/postgresql')[0];
  return version ? { command: 'pg_ctlcluster', args: ['--skip-systemctl-redirect', version, 'main', 'start'] } : undefined;
}

function redisStarter(port: number): { command: string; args: string[] } | undefined {
  if (!existsSync('/usr/bin/redis-server')) return undefined;
  return {
    command: 'redis-server',
    args: ['--daemonize', 'yes', '--bind', '127.0.0.1', '-::1', '--port', String(port), '--save', '', '--appendonly', 'no'],
  };
}

function servicesOf(environment: NodeJS.ProcessEnv): Service[] {
  const env = parseEnv(environment);
  const postgres = new URL(env.DATABASE_URL);
  const redis = new URL(env.REDIS_URL);
  return [
    {
      name: 'PostgreSQL',
      url: postgres,
      defaultPort: 5432,
      starter: postgresStarter,
      hint: 'start it (Debian: pg_ctlcluster <version> main start; Docker: docker compose up -d postgres) or set DATABASE_URL',
    },
    {
      name: 'Redis',
      url: redis,
      defaultPort: 6379,
      starter: () => redisStarter(Number(redis.port || 6379)),
      hint: 'start it (Debian: redis-server --daemonize yes; Docker: docker compose up -d redis) or set REDIS_URL',
    },
  ];
}

async function waitUntilUp(service: Service): Promise<boolean> {
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (await answers(service.url, service.defaultPort)) return true;
    await sleep(250);
  }
  return false;
}

async function ensureUp(service: Service): Promise<string | undefined> {
  if (await answers(service.url, service.defaultPort)) return undefined;
  const where = `${service.url.hostname}:${service.url.port || service.defaultPort}`;
  const start = LOOPBACK.has(service.url.hostname) ? service.starter() : undefined;
  if (start) {
    try {
      execFileSync(start.command, start.args, { stdio: 'ignore' });
      if (await waitUntilUp(service)) return undefined;
    } catch {
      // Falls through to the one-line explanation below: the start command is named there.
    }
  }
  return `${service.name} is not answering on ${where}: ${service.hint}, then run the tests again.`;
}

/**
 * The servers the tests talk to must answer before anything runs. Where one is down and
 * this machine can start it (its Debian package installed, and root for PostgreSQL), it is
 * started; otherwise one line per server says what to start, instead of hundreds of
 * connection errors from the tests.
 */
export async function ensureTestServices(environment: NodeJS.ProcessEnv = process.env): Promise<void> {
  const problems = (await Promise.all(servicesOf(environment).map(ensureUp))).filter((line): line is string => Boolean(line));
  if (problems.length) throw new Error(problems.join('\n'));
}
