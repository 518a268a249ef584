import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import { parseCookie } from 'cookie';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import { LRUCache } from 'lru-cache';
import { bearerToken } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';
import { withTraceContext } from '@popug/lib/tracing/outgoing';

export const QUEUE_BOARD_PATH = '/admin/queues';
export const QUEUE_BOARD_COOKIE = 'popug_queue_board';
/** The auth permission that opens the board, and nothing else. */
export const QUEUE_BOARD_PERMISSION = 'queue:view';
/**
 * The auth permission that shows the jobs' data: the mails (names, emails, payout amounts)
 * and the replicated events (the same, and every fee and reward). Auth decides it, as it
 * decides `queue:view`: the board reads no other service's tables. Admins hold it.
 */
export const JOB_DATA_PERMISSION = 'queue:view_data';
/** What a viewer without JOB_DATA_PERMISSION sees in place of job data, results and failure reasons. */
export const HIDDEN = `hidden: needs ${JOB_DATA_PERMISSION}`;
/** The board cookie's life; every request behind it is still checked with auth. */
const COOKIE_MAX_AGE_MS = 15 * 60 * 1000;
/** How long a verdict of auth's is reused (the UI polls); well under the 5 s rule. */
const VERDICT_CACHE_MS = 2000;

export interface QueueBoardOptions {
  queues: readonly Queue[];
  /** auth's `/identity/authorize` (see subgraphs/auth/identity-route.ts). */
  authorizeUrl: string;
  /** Marks the cookie `Secure` (production sits behind TLS). */
  secureCookie: boolean;
  logger: Logger;
}

type Refusal = 'forbidden' | 'unauthenticated';
/** What a token may do on the board: look (with or without the jobs' data), or nothing. */
type Verdict = { look: true; seesData: boolean } | { look: false; refusal: Refusal };

/** Asks auth whether a token's user is signed in, active and may look, and whether they see data. */
class BoardAuthorizer {
  private readonly verdicts = new LRUCache<string, Verdict>({ max: 1000, ttl: VERDICT_CACHE_MS });

  constructor(private readonly url: string) {}

  async check(token: string): Promise<Verdict> {
    const known = this.verdicts.get(token);
    if (known) return known;
    const looks = await this.holds(token, QUEUE_BOARD_PERMISSION);
    const verdict: Verdict = looks === 'unauthenticated' ? { look: false, refusal: 'unauthenticated' } : looks ? { look: true, seesData: (await this.holds(token, JOB_DATA_PERMISSION)) === true } : { look: false, refusal: 'forbidden' };
    this.verdicts.set(token, verdict);
    return verdict;
  }

  private async holds(token: string, permission: string): Promise<boolean | 'unauthenticated'> {
    const response = await fetch(this.url, {
      method: 'POST',
      headers: withTraceContext({ authorization: `Bearer ${token}`, 'content-type': 'application/json' }),
      body: JSON.stringify({ permission }),
      signal: AbortSignal.timeout(5000),
    });
    if (response.status === 401) return 'unauthenticated';
    if (!response.ok) throw new Error(`auth answered ${response.status} to a permission check`);
    const answer = (await response.json()) as { granted?: unknown };
    return answer.granted === true;
  }
}

function cookieToken(header: string | undefined): string | null {
  return parseCookie(header ?? '')[QUEUE_BOARD_COOKIE] ?? null;
}

/** Keys of bull-board's JSON that carry what a job holds: its data, its result, why and where it failed. */
const JOB_CONTENT_KEYS = new Set(['data', 'returnValue', 'failedReason', 'stacktrace']);

/**
 * The same answer with job content replaced by HIDDEN: every job's, or with `onlySecrets` the
 * content of jobs whose data says it holds a credential (a password-reset link), which no
 * one reads on the board, the holders of queue:view_data included.
 */
export function hideJobContent(value: unknown, onlySecrets = false): unknown {
  if (Array.isArray(value)) return value.map((inner) => hideJobContent(inner, onlySecrets));
  if (typeof value !== 'object' || value === null) return value;
  const hide = !onlySecrets || holdsSecret(value);
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, hide && JOB_CONTENT_KEYS.has(key) ? HIDDEN : hideJobContent(inner, onlySecrets)]));
}

function holdsSecret(job: object): boolean {
  const data: unknown = (job as { data?: unknown }).data;
  return typeof data === 'object' && data !== null && (data as { secret?: unknown }).secret === true;
}

/**
 * A request's path as a router might read it: percent-decoded (a %2F is a slash here, and
 * `%6C` an "l"), lower-cased (Express matches routes whatever their case), with runs of
 * slashes and a trailing slash dropped. Checks on it hold for every spelling that could
 * reach the route, and a few that could not, which are refused all the same.
 */
export function normalisedPath(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // Not valid percent-encoding: no router decodes it either; it is checked as it came.
  }
  const collapsed = decoded.toLowerCase().replace(/\/+/g, '/');
  return collapsed.length > 1 && collapsed.endsWith('/') ? collapsed.slice(0, -1) : collapsed;
}

/** bull-board's Redis statistics: version, OS and kernel, memory, clients. Nobody needs them on the board. */
const REDIS_STATS_PATH = '/api/redis/stats';
const JOB_LOGS = /\/logs$/;

/** Served for GET /login: no script, so the board's strict CSP holds here too. */
const LOGIN_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Queue board · sign in</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto">
<h1>Queue board</h1>
<p>Paste the token of an account holding <code>${QUEUE_BOARD_PERMISSION}</code> (the <code>token</code> that the
<code>login</code> mutation returns). It is kept in an HTTP-only cookie for 15 minutes.</p>
<form method="post" action="login"><input name="token" type="password" required style="width:100%">
<p><button type="submit">Open the board</button></p></form>
</body></html>`;

/** Keeps the browser on this origin: bull-board's page links a web font, which stays unloaded. */
const boardHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'", "'unsafe-inline'"],
      imgSrc: ["'self'", 'data:'],
      fontSrc: ["'self'"],
      connectSrc: ["'self'"],
      frameAncestors: ["'none'"],
      formAction: ["'self'"],
    },
  },
});

/**
 * bull-board on the jobs worker at /admin/queues, by least privilege. A request carries the
 * user's token as `Authorization: Bearer …` or in the cookie that `POST /admin/queues/login`
 * sets; auth decides on every request (through a 2 s cache) that the user exists, is active
 * and that their role holds `queue:view`. No token: 401; a token without it: 403. Job data,
 * results and failure reasons are shown only to holders of auth's `queue:view_data`
 * (job logs refused to the others, however the path is spelled: normalisedPath). Redis
 * statistics are refused to everyone (403). The board is read-only for everyone: no add, retry,
 * promote, clean, empty or scheduler change (405). A payout run is redone through the
 * `closeDay` mutation, which needs `payout:run`; mails are re-queued until delivered.
 */
export function mountQueueBoard(app: Express, options: QueueBoardOptions): void {
  const authorizer = new BoardAuthorizer(options.authorizeUrl);
  const board = express.Router();
  board.use(boardHeaders, (_req, res, next) => {
    res.set('cache-control', 'no-store');
    next();
  });
  board.get('/login', (_req, res) => {
    res.type('html').send(LOGIN_PAGE);
  });
  board.post('/login', express.urlencoded({ extended: false, limit: '16kb' }), express.json({ limit: '16kb' }), async (req, res) => {
    const token: unknown = (req.body as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) {
      res.status(400).json({ code: 'BAD_USER_INPUT', message: 'Give the token as the "token" field' });
      return;
    }
    const verdict = await authorizer.check(token).catch((error: unknown) => {
      options.logger.error({ err: error }, 'queue board sign-in: auth unavailable');
      return 'unavailable' as const;
    });
    if (verdict === 'unavailable' || !verdict.look) {
      respondRefused(res, verdict === 'unavailable' ? verdict : verdict.refusal);
      return;
    }
    res.cookie(QUEUE_BOARD_COOKIE, token, {
      httpOnly: true,
      sameSite: 'strict',
      secure: options.secureCookie,
      path: QUEUE_BOARD_PATH,
      maxAge: COOKIE_MAX_AGE_MS,
    });
    res.redirect(303, QUEUE_BOARD_PATH + '/');
  });
  board.post('/logout', (_req, res) => {
    res.clearCookie(QUEUE_BOARD_COOKIE, { path: QUEUE_BOARD_PATH }).redirect(303, 'login');
  });
  board.use(async (req: Request, res: Response, next: NextFunction) => {
    const token = bearerToken(req.header('authorization')) ?? cookieToken(req.header('cookie'));
    if (!token) {
      respondRefused(res, 'unauthenticated');
      return;
    }
    const verdict = await authorizer.check(token).catch((error: unknown) => {
      options.logger.error({ err: error }, 'queue board: auth unavailable');
      return 'unavailable' as const;
    });
    if (verdict === 'unavailable' || !verdict.look) {
      respondRefused(res, verdict === 'unavailable' ? verdict : verdict.refusal);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.status(405).set('allow', 'GET').json({ code: 'READ_ONLY', message: 'The queue board is read-only' });
      return;
    }
    const path = normalisedPath(req.path);
    if (path === REDIS_STATS_PATH) {
      res.status(403).json({ code: 'FORBIDDEN', message: 'Redis statistics are not shown on the queue board' });
      return;
    }
    if (!verdict.seesData && JOB_LOGS.test(path)) {
      res.status(403).json({ code: 'FORBIDDEN', message: `Job logs need accounting's ${JOB_DATA_PERMISSION} permission` });
      return;
    }
    const json = res.json.bind(res);
    res.json = (body: unknown) => json(hideJobContent(body, verdict.seesData));
    next();
  });

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    // Read-only here too, so the UI offers no action the gate above would refuse.
    queues: options.queues.map((queue) => new BullMQAdapter(queue, { readOnlyMode: true, allowRetries: false })),
    serverAdapter,
    // No worker lists: BullMQ finds workers with CLIENT LIST, which shows every Redis client and the jobs worker's user may not run (docs/security.md "Redis users").
    // No Redis details either (version, kernel, memory): bull-board's own switch hides them in the UI and refuses its stats route.
    options: { uiConfig: { boardTitle: 'Popug queues', showWorkers: false, hideRedisDetails: true } },
  });
  board.use(serverAdapter.getRouter() as Router);
  app.use(QUEUE_BOARD_PATH, board);
}

function respondRefused(res: Response, verdict: 'unauthenticated' | 'forbidden' | 'unavailable'): void {
  if (verdict === 'unauthenticated') {
    res.status(401).set('www-authenticate', 'Bearer').json({
      code: 'UNAUTHENTICATED',
      message: `Sign in: send "Authorization: Bearer <token>" or open ${QUEUE_BOARD_PATH}/login`,
    });
  } else if (verdict === 'forbidden') {
    res.status(403).json({ code: 'FORBIDDEN', message: `The queue board needs auth's ${QUEUE_BOARD_PERMISSION} permission` });
  } else {
    res.status(503).json({ code: 'UNAVAILABLE', message: 'auth is unreachable; try again shortly' });
  }
}
