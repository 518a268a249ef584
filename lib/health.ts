import type { Express } from 'express';
import type { Redis } from 'ioredis';

/**
 * Probes an orchestrator uses (docs/operations.md "Probes"), on the public port: `/live`
 * answers while the process does; `/ready` while this process can serve — its own
 * state and what it cannot serve anything without, never a dependency every replica
 * shares and some requests can do without (failing on one takes every replica out of
 * its Service at once). `/health`, the richer status page, is on the internal port
 * (`mountHealth`), the same code for every service.
 */

/** One dependency: resolves when it answered, throws (or takes longer than the timeout) when not. */
export type ReadinessCheck = () => Promise<unknown>;
export type ReadinessChecks = Record<string, ReadinessCheck>;

/** A check slower than this counts as down: a probe must answer well within the orchestrator's timeout. */
export const READINESS_TIMEOUT_MS = 1000;

export function mountProbes(app: Express, service: string, checks: ReadinessChecks): void {
  app.get('/live', (_req, res) => {
    res.json({ status: 'ok', service });
  });
  app.get('/ready', async (_req, res) => {
    const outcomes = await checkAll(checks);
    const results = Object.fromEntries(Object.entries(outcomes).map(([name, outcome]) => [name, outcome.ok ? 'ok' : 'down']));
    const reasons = Object.fromEntries(Object.entries(outcomes).flatMap(([name, outcome]) => (outcome.ok ? [] : [[name, outcome.reason]])));
    const ready = Object.values(outcomes).every((outcome) => outcome.ok);
    // A check that is down says why (a missing database names itself), so an operator reading one probe knows what to fix.
    res.status(ready ? 200 : 503).json(ready ? { status: 'ready', service, checks: results } : { status: 'unavailable', service, checks: results, reasons });
  });
}

/** What a service adds to `/health` beside its dependencies: its own status, and whether that status is a degraded one. */
export type HealthDetails = () => Promise<{ degraded: boolean; details: Record<string, unknown> }>;

export interface HealthOptions {
  /** Dependencies without which the service cannot work: one down answers 503 `unavailable`, naming it `unreachable`. */
  essential: ReadinessChecks;
  /** Dependencies some requests need (a mail queue's Redis): one down answers 503 `degraded`, naming it `unreachable`. */
  wanted?: ReadinessChecks;
  /** The service's own status (replication, the day close): `degraded` answers 503 with it. */
  details?: HealthDetails;
}

/**
 * `/health`, the richer status page, the same for every service: 200 `ok` (with the
 * service's details), 503 `degraded` (details say what), or 503 `unavailable` when an
 * essential dependency does not answer or the details cannot be read.
 */
export function mountHealth(app: Express, service: string, options: HealthOptions): void {
  app.get('/health', async (_req, res) => {
    const [essential, wanted] = await Promise.all([runChecks(options.essential), runChecks(options.wanted ?? {})]);
    const unreachable = (checks: Record<string, 'ok' | 'down'>) => Object.fromEntries(Object.entries(checks).flatMap(([name, state]) => (state === 'down' ? [[name, 'unreachable']] : [])));
    const essentialDown = unreachable(essential);
    if (Object.keys(essentialDown).length > 0) {
      res.status(503).json({ status: 'unavailable', service, ...essentialDown });
      return;
    }
    try {
      const { degraded, details } = options.details ? await options.details() : { degraded: false, details: {} };
      const wantedDown = unreachable(wanted);
      const worse = degraded || Object.keys(wantedDown).length > 0;
      res.status(worse ? 503 : 200).json({ status: worse ? 'degraded' : 'ok', service, ...details, ...wantedDown });
    } catch {
      res.status(503).json({ status: 'unavailable', service });
    }
  });
}

type Outcome = { ok: true } | { ok: false; reason: string };

/** Every check at once, each `ok` or `down`. */
export async function runChecks(checks: ReadinessChecks, timeoutMs = READINESS_TIMEOUT_MS): Promise<Record<string, 'ok' | 'down'>> {
  const outcomes = await checkAll(checks, timeoutMs);
  return Object.fromEntries(Object.entries(outcomes).map(([name, outcome]) => [name, outcome.ok ? 'ok' : 'down']));
}

async function checkAll(checks: ReadinessChecks, timeoutMs = READINESS_TIMEOUT_MS): Promise<Record<string, Outcome>> {
  const entries = await Promise.all(Object.entries(checks).map(async ([name, check]) => [name, await answersWithin(check, timeoutMs)] as const));
  return Object.fromEntries(entries);
}

async function answersWithin(check: ReadinessCheck, timeoutMs: number): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Outcome>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([check().then((): Outcome => ({ ok: true })), timedOut]);
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** Redis answers PING. */
export const redisAnswers =
  (redis: Redis): ReadinessCheck =>
  async () => {
    if ((await redis.ping()) !== 'PONG') throw new Error('Redis did not answer PONG');
  };

/** A database answers `select 1` through anything that executes SQL (an EntityManager). */
export const databaseAnswers =
  (database: { execute(sql: string): Promise<unknown> }): ReadinessCheck =>
  () =>
    database.execute('select 1');
