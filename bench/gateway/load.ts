import { Pool } from 'undici';
import { percentile } from '../harness';

/** One client's request: where, as whom, what. */
export interface Call {
  url: string;
  /** Fixed, or made anew for each request (a statement names its request id). */
  headers: Record<string, string> | (() => Record<string, string>);
  body: string;
}

export const headersOf = (call: Call) => ({ 'content-type': 'application/json', ...(typeof call.headers === 'function' ? call.headers() : call.headers) });

/** What one measured stretch of load saw: `requests` good answers, `failures` other ones. */
export interface Window {
  requests: number;
  failures: number;
  seconds: number;
  latencies: number[];
}

/** Sends `call` once and throws unless the answer is a 200 without errors (and passes `check`). */
export async function checkOnce(call: Call, check?: (data: Record<string, unknown>) => boolean): Promise<void> {
  const response = await fetch(call.url, { method: 'POST', headers: headersOf(call), body: call.body });
  const text = await response.text();
  const parsed = JSON.parse(text) as { data?: Record<string, unknown> | null; errors?: unknown[] };
  if (response.status !== 200 || parsed.errors || !parsed.data || (check && !check(parsed.data))) {
    throw new Error(`${call.url} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

/**
 * One keep-alive client per call, all to the same server, each sending its next request when
 * its last one answered: `warmUpMs` unkept, then `measureMs` kept, with `around` told when the
 * kept stretch starts and ends (to read CPU over exactly it). Every answer must be a 200 without errors.
 */
export async function loadWindow(calls: readonly Call[], timing: { warmUpMs: number; measureMs: number }, around: { start(): void; end(): void }): Promise<Window> {
  const { origin } = new URL(calls[0]?.url ?? '');
  const pool = new Pool(origin, { connections: calls.length, pipelining: 1 });
  try {
    await drive(pool, calls, performance.now() + timing.warmUpMs);
    const latencies: number[] = [];
    around.start();
    const started = performance.now();
    const failures = await drive(pool, calls, started + timing.measureMs, latencies);
    const seconds = (performance.now() - started) / 1000;
    around.end();
    if (failures > latencies.length) throw new Error(`${calls[0]?.url}: ${failures} failed answers, ${latencies.length} good ones`);
    return { requests: latencies.length, failures, seconds, latencies };
  } finally {
    await pool.close();
  }
}

/**
 * The clients' loops until `until`; how many answers failed. A failure (a timeout inside a
 * service on an overloaded host, say) is counted and its first one shown, not thrown: every
 * target answered correctly once before load (checkOnce), and one slow moment should not void a run.
 */
async function drive(pool: Pool, calls: readonly Call[], until: number, latencies?: number[]): Promise<number> {
  let failures = 0;
  await Promise.all(
    calls.map(async (call) => {
      while (performance.now() < until) {
        try {
          const took = await send(pool, call);
          latencies?.push(took);
        } catch (error) {
          if (failures++ === 0) process.stderr.write(`  failed answer: ${(error as Error).message}\n`);
        }
      }
    }),
  );
  return failures;
}

/** One request; its latency in ms. Throws unless the answer is a 200 without errors. */
async function send(pool: Pool, call: Call): Promise<number> {
  // Signed before the clock starts: the latency is the server's, not the load generator's signature.
  const headers = headersOf(call);
  const started = performance.now();
  const response = await pool.request({ path: new URL(call.url).pathname, method: 'POST', headers, body: call.body });
  const text = await response.body.text();
  const took = performance.now() - started;
  if (response.statusCode !== 200 || text.includes('"errors"')) throw new Error(`${call.url} answered ${response.statusCode}: ${text.slice(0, 300)}`);
  return took;
}

/**
 * One client sending `direct` and `ours` in turn (`warmUpMs` unkept, then `measureMs` kept): both
 * see the same moment's machine, so the difference of their medians is the gateway's own cost.
 */
export async function alternating(calls: { direct: Call; ours: Call }, timing: { warmUpMs: number; measureMs: number }): Promise<{ direct: number; ours: number }> {
  const sides = [calls.direct, calls.ours].map((call) => ({ call, pool: new Pool(new URL(call.url).origin, { connections: 1 }), latencies: [] as number[] }));
  const turns = async (until: number, keep: boolean) => {
    for (let turn = 0; performance.now() < until; turn++) {
      const side = sides[turn % 2];
      if (!side) continue;
      const took = await send(side.pool, side.call);
      if (keep) side.latencies.push(took);
    }
  };
  try {
    await turns(performance.now() + timing.warmUpMs, false);
    await turns(performance.now() + timing.measureMs, true);
    const [direct, ours] = sides.map(({ latencies }) => percentile(latencies.sort((left, right) => left - right), 0.5));
    return { direct: direct ?? Number.NaN, ours: ours ?? Number.NaN };
  } finally {
    await Promise.all(sides.map(({ pool }) => pool.close()));
  }
}
