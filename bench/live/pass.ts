import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { Env } from '@popug/lib/env';
import { readProcesses, treeCpuSeconds } from '../cpu';
import { percentile } from '../harness';
import { bookMovements } from './movements';
import type { LivePopug } from './popugs';
import { openSubscribers } from './subscribers';

/** How one gateway is measured: where, how each subscriber signs in, and the plan. */
export interface LivePlan {
  url: string;
  /** The gateway's process (a CLI that forks its server is read with its children). */
  pid: number;
  popugs: readonly LivePopug[];
  headersFor(popug: LivePopug): Record<string, string>;
  rate: number;
  seconds: number;
  /** Keeps each pass's rows' source versions apart. */
  serial: number;
}

export interface LiveFigures {
  subscribers: number;
  openSeconds: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
  kibPerSubscriber: number;
  booked: number;
  delivered: number;
  /** Booked movements no subscriber got, and deliveries beyond one per movement or to the wrong popug. */
  missing: number;
  wrong: number;
  errors: Map<string, number>;
  /** Commit → arrival at the subscriber, sorted, ms. */
  latencies: number[];
  cpuMsPerEvent: number;
  loadAverage: number;
}

/** After the subscribers are in, this long before RSS is read: their first heartbeats and the session watch's first ticks. */
const SETTLE_MS = 10_000;
/** After the last movement is booked, this long for the last deliveries. */
const DRAIN_MS = 3_000;
const WARM_UP = { subscribers: 20, rate: 20, seconds: 1 };

const MIB = 2 ** 20;

interface AccountUpdateEvent {
  data?: { myAccountUpdated?: { transaction?: { id?: string; createdAt?: string } } };
  errors?: { extensions?: { code?: string } }[];
}

/**
 * One gateway: a warm-up (a few subscribers and movements, so code loaded on first use is
 * not counted as subscribers' memory), then RSS, then every popug subscribes to
 * MyAccountUpdates over its own SSE connection, RSS again once they are idle, then
 * `rate` movements a second for `seconds`, each to one subscriber, timed from its commit.
 */
export async function measureGateway(env: Env, body: string, plan: LivePlan): Promise<LiveFigures> {
  const warm = await deliverTo(env, body, { ...plan, popugs: plan.popugs.slice(0, WARM_UP.subscribers), rate: WARM_UP.rate, seconds: WARM_UP.seconds, serial: plan.serial * 2 });
  if (warm.missing > 0) throw new Error(`warm-up: ${warm.missing} of ${warm.booked} movements never arrived (errors: ${JSON.stringify([...warm.errors])})`);
  await sleep(2000);
  return deliverTo(env, body, { ...plan, serial: plan.serial * 2 + 1 });
}

async function deliverTo(env: Env, body: string, plan: LivePlan): Promise<LiveFigures> {
  const loadAverage = loadavg()[0] ?? Number.NaN;
  const rssBefore = treeRssBytes(plan.pid);
  const latencies: number[] = [];
  const errors = new Map<string, number>();
  const arrivals = new Map<string, { subscriber: number; latency: number }[]>();
  const onEvent = (subscriber: number, data: unknown, arrivedAt: number) => {
    const event = data as AccountUpdateEvent;
    for (const error of event.errors ?? []) errors.set(error.extensions?.code ?? 'NO_CODE', (errors.get(error.extensions?.code ?? 'NO_CODE') ?? 0) + 1);
    const transaction = event.data?.myAccountUpdated?.transaction;
    if (!transaction?.id || !transaction.createdAt) return;
    const seen = arrivals.get(transaction.id) ?? [];
    seen.push({ subscriber, latency: arrivedAt - Date.parse(transaction.createdAt) });
    arrivals.set(transaction.id, seen);
  };
  const opening = performance.now();
  const subscribers = await openSubscribers(plan.url, plan.popugs.length, body, (n) => plan.headersFor(plan.popugs[n] as LivePopug), onEvent);
  const openSeconds = (performance.now() - opening) / 1000;
  try {
    await sleep(SETTLE_MS);
    const rssAfter = treeRssBytes(plan.pid);
    const cpuBefore = treeCpuSeconds(readProcesses(), plan.pid);
    const booked = await bookMovements(
      env,
      plan.popugs.map(({ caller }) => caller.id),
      plan,
    );
    await sleep(DRAIN_MS);
    const cpu = treeCpuSeconds(readProcesses(), plan.pid) - cpuBefore;
    let delivered = 0;
    let missing = 0;
    let wrong = 0;
    for (const [id, userId] of booked) {
      const seen = arrivals.get(id) ?? [];
      if (seen.length === 0) missing++;
      for (const [index, arrival] of seen.entries()) {
        if (index > 0 || plan.popugs[arrival.subscriber]?.caller.id !== userId) wrong++;
        else {
          delivered++;
          latencies.push(arrival.latency);
        }
      }
    }
    latencies.sort((left, right) => left - right);
    const ended = subscribers.ended();
    if (ended > 0) errors.set('STREAMS_ENDED', ended);
    return {
      subscribers: plan.popugs.length,
      openSeconds,
      rssBeforeMiB: rssBefore / MIB,
      rssAfterMiB: rssAfter / MIB,
      kibPerSubscriber: (rssAfter - rssBefore) / 1024 / plan.popugs.length,
      booked: booked.size,
      delivered,
      missing,
      wrong,
      errors,
      latencies,
      cpuMsPerEvent: (1000 * cpu) / Math.max(1, delivered),
      loadAverage,
    };
  } finally {
    subscribers.close();
    await sleep(3000); // the gateway ends the streams and its upstream subscriptions
  }
}

export const p = (figures: LiveFigures, fraction: number) => percentile(figures.latencies, fraction);

/** Resident memory of `pid` and every process below it (Hive's CLI forks its server). */
function treeRssBytes(pid: number): number {
  const processes = readProcesses();
  let total = 0;
  const stack = [pid];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    total += residentBytes(next);
    stack.push(...processes.filter((process) => process.parent === next).map((process) => process.pid));
  }
  return total;
}

function residentBytes(pid: number): number {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('VmRSS:'));
    return Number(/(\d+)/.exec(line ?? '')?.[1] ?? 0) * 1024;
  } catch {
    return 0; // ended while we looked
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
