import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { signAnonymousStatement, statementAudience } from '@popug/lib/identity';
import { loadPrivateKey } from '@popug/lib/keys';
import { contractOperation } from '@popug/testing/contract';
import { statementHeaders } from '@popug/testing/stack';
import type { BenchSection, RecordMeasurement } from '../harness';
import { startStack } from '../gateway/stack';
import { TARGET_LABEL, type Gateway } from '../gateway/targets';
import { CONNECTION_STATEMENT_HEADER, HIVE_LIVE_CONFIG } from '../live/hive';
import { measureGateway, p, type LiveFigures } from '../live/pass';
import { seedLivePopugs, type LivePopug } from '../live/popugs';
import { ROOT, stopChild } from '../processes';
import { prepareSystemDatabases } from '../system-databases';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';

/** Subscribers per gateway, each a different popug (BENCH_LIVE_SUBSCRIBERS for a quick look). */
const SUBSCRIBERS = Number(process.env.BENCH_LIVE_SUBSCRIBERS ?? 10_000);
const RATE = 100; // account movements per second
const SECONDS = 20;
/**
 * Our gateway first: the popugs' access tokens (at most 15 minutes) are signed for it at the
 * seed. BENCH_LIVE_GATEWAYS=ours (comma-separated) measures only those named.
 */
const GATEWAYS: readonly Gateway[] = (['ours', 'hiveJs', 'hiveRust'] as const).filter((gateway) => !process.env.BENCH_LIVE_GATEWAYS || process.env.BENCH_LIVE_GATEWAYS.split(',').includes(gateway));

/**
 * Live updates (docs/performance.md "Live updates"): SUBSCRIBERS concurrent MyAccountUpdates
 * subscribers over SSE, each a different popug, on one gateway process: its memory per idle
 * subscriber and, at RATE account movements a second, the time from a movement's commit
 * to its delivery; our gateway, then Hive Gateway (both planners) on the same subgraphs.
 */
export const liveSection: BenchSection = {
  name: 'live',
  async run(record) {
    const env = await prepareSystemDatabases();
    const children: ChildProcess[] = [];
    const scratch = join(ROOT, 'var', `bench-live-${process.pid}`);
    mkdirSync(scratch, { recursive: true });
    try {
      const stack = await startStack(children, scratch, env, HIVE_LIVE_CONFIG);
      const popugs = await seedLivePopugs(env, SUBSCRIBERS, env.TOKEN_TTL_SECONDS);
      process.stderr.write(`  ${popugs.length} popugs seeded\n`);
      const body = JSON.stringify({ query: contractOperation('MyAccountUpdates'), operationName: 'MyAccountUpdates' });
      const gatewayKey = loadPrivateKey(env, 'gateway');
      const hiveHeaders = (popug: LivePopug) => {
        const headers = statementHeaders(gatewayKey, 'accounting', popug.caller);
        const requestId = headers[REQUEST_ID_HEADER] as string;
        return { ...headers, [CONNECTION_STATEMENT_HEADER]: signAnonymousStatement(gatewayKey, { audience: statementAudience('accounting'), requestId }) };
      };
      for (const [serial, gateway] of GATEWAYS.entries()) {
        const headersFor = gateway === 'ours' ? (popug: LivePopug) => ({ authorization: `Bearer ${popug.token}`, [REQUEST_ID_HEADER]: randomUUID() }) : hiveHeaders;
        process.stderr.write(`  ${TARGET_LABEL[gateway]}: ${popugs.length} subscribers\n`);
        const figures = await measureGateway(env, body, { url: stack.gatewayUrls[gateway], pid: stack.pids[gateway], popugs, headersFor, rate: RATE, seconds: SECONDS, serial });
        recordFigures(record, gateway, figures);
      }
    } finally {
      await Promise.all(children.map(stopChild));
      rmSync(scratch, { recursive: true, force: true });
    }
  },
};

function recordFigures(record: RecordMeasurement, gateway: Gateway, figures: LiveFigures): void {
  const ours = gateway === 'ours';
  const name = (what: string) => `MyAccountUpdates over SSE, ${figures.subscribers} subscribers, ${TARGET_LABEL[gateway]}: ${what}`;
  const at = `at ${RATE} movements/s for ${SECONDS} s`;
  process.stderr.write(
    `    opened in ${figures.openSeconds.toFixed(1)} s; RSS ${figures.rssBeforeMiB.toFixed(1)} → ${figures.rssAfterMiB.toFixed(1)} MiB; ` +
      `${figures.delivered}/${figures.booked} delivered, p50 ${p(figures, 0.5)} p99 ${p(figures, 0.99)} ms; errors ${JSON.stringify([...figures.errors])}; load ${figures.loadAverage.toFixed(1)}\n`,
  );
  record({ metric: name('subscribing rate'), value: Math.round(figures.subscribers / figures.openSeconds), unit: 'subscriptions/s' });
  record({ metric: name(`gateway RSS idle, before → after subscribing (${figures.rssBeforeMiB.toFixed(1)} MiB before)`), value: Math.round(figures.rssAfterMiB * 10) / 10, unit: 'MiB' });
  record({ metric: name('gateway memory per idle subscriber (RSS after − before, / subscribers)'), value: Math.round(figures.kibPerSubscriber * 10) / 10, unit: 'KiB', ...(ours ? { target: { comparison: '<=', value: 20 } } : {}) });
  record({ metric: name(`commit → delivery p50 ${at}`), value: Math.round(p(figures, 0.5)), unit: 'ms' });
  record({ metric: name(`commit → delivery p99 ${at}`), value: Math.round(p(figures, 0.99)), unit: 'ms', ...(ours ? { target: { comparison: '<=', value: 250 } } : {}) });
  record({ metric: name(`commit → delivery max ${at}`), value: Math.round(figures.latencies.at(-1) ?? Number.NaN), unit: 'ms' });
  record({ metric: name(`movements not delivered, of ${figures.booked}`), value: figures.missing, unit: 'movements', target: { comparison: '<=', value: 0 } });
  record({ metric: name('deliveries doubled or to another popug'), value: figures.wrong, unit: 'events', target: { comparison: '<=', value: 0 } });
  record({ metric: name('gateway CPU per delivered event (whole process, idle subscribers included)'), value: Math.round(figures.cpuMsPerEvent * 100) / 100, unit: 'ms' });
  record({ metric: name('load average (1 min) when the pass began'), value: Math.round(figures.loadAverage * 10) / 10, unit: '' });
}
