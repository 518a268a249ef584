import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express, { type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import { bearerToken, type Logger } from '@popug/lib';

export const QUEUE_BOARD_PATH = '/admin/queues';
export const QUEUE_BOARD_COOKIE = 'popug_queue_board';
/** The auth permission that opens the board: the admins' own. */
export const QUEUE_BOARD_PERMISSION = 'user:manage';
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

type Verdict = 'granted' | 'forbidden' | 'unauthenticated';

/** Asks auth whether a token's user is signed in, active and holds the permission. */
class BoardAuthorizer {
  private readonly cache = new Map<string, { verdict: Verdict; until: number }>();

  constructor(private readonly url: string) {}

  async check(token: string): Promise<Verdict> {
    const hit = this.cache.get(token);
    if (hit && hit.until > Date.now()) return hit.verdict;
    const response = await fetch(this.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ permission: QUEUE_BOARD_PERMISSION }),
      signal: AbortSignal.timeout(5000),
    });
    let verdict: Verdict;
    if (response.status === 401) verdict = 'unauthenticated';
    else if (!response.ok) throw new Error(`auth answered ${response.status} to a permission check`);
    else verdict = ((await response.json()) as { granted?: unknown }).granted === true ? 'granted' : 'forbidden';
    if (this.cache.size >= 1000) this.cache.clear();
    this.cache.set(token, { verdict, until: Date.now() + VERDICT_CACHE_MS });
    return verdict;
  }
}

function cookieToken(header: string | undefined): string | null {
  for (const part of (header ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === QUEUE_BOARD_COOKIE && value.length > 0) return decodeURIComponent(value.join('='));
  }
  return null;
}

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
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * bull-board on the jobs worker at /admin/queues, for admins only. A request carries the
 * user's token as `Authorization: Bearer …` or in the cookie that `POST /admin/queues/login`
 * sets; auth decides on every request (through a 2 s cache) that the user exists, is active
 * and that their role holds `user:manage`. No token: 401; a token without it: 403.
 */
export function mountQueueBoard(app: Express, options: QueueBoardOptions): void {
  const authorizer = new BoardAuthorizer(options.authorizeUrl);
  const board = express.Router();
  board.use((_req, res, next) => {
    res.set('content-security-policy', CONTENT_SECURITY_POLICY);
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
    if (verdict !== 'granted') {
      respondRefused(res, verdict);
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
    if (verdict === 'granted') next();
    else respondRefused(res, verdict);
  });

  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUE_BOARD_PATH);
  createBullBoard({
    queues: options.queues.map((queue) => new BullMQAdapter(queue)),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Popug queues' } },
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
