import { randomUUID } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { request as undiciRequest, type Dispatcher } from 'undici';
import { callerSchema, IDENTITY_HEADER, signAnonymousStatement, statementAudience, type Caller } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';

/** Why a live subscription ends because of who is asking: the error event's code. */
export type SessionEnd = 'SESSION_EXPIRED' | 'SESSION_ENDED' | 'ACCOUNT_DEACTIVATED';

/** One live subscription as the watch sees it. */
export interface Watched {
  caller: Caller;
  /** The access token's `exp`, in ms: the stream ends then (SESSION_EXPIRED), without asking anyone. */
  expiresAtMs: number;
  ended(code: SessionEnd): void;
  /** auth holds a newer role or revision of the caller: re-subscribe with a fresh statement. */
  changed(caller: Caller): void;
}

/** A revision no user has: its session is answered in full. */
const UNKNOWN_REVISION = -1;

/** The most sessions auth takes in one ask (subgraphs/auth/identity-route.ts SESSIONS_PER_ASK). */
const SESSIONS_PER_ASK = 20_000;

type SessionState = { state: 'active'; caller: unknown } | { state: 'ended' } | { state: 'deactivated' };

/**
 * Authorization that follows the user (docs/architecture.md "Subscriptions"): every
 * `intervalMs` (≤ 4 s) one batched `POST /identity/sessions` to auth for the sessions of all
 * live subscriptions of this gateway process (auth answers with one set-based read), and the
 * tokens' expiry checked locally. Logout, a password change or reset, deactivation and expiry
 * end streams within 5 s; a role change re-subscribes them. auth unreachable: nothing ends
 * (the subgraphs still check permissions on every event), and the next tick asks again.
 */
export class SessionWatch {
  private readonly watched = new Set<Watched>();
  private timer?: NodeJS.Timeout;
  private ticking = false;

  constructor(
    private readonly sessionsUrl: string,
    private readonly key: KeyObject,
    private readonly intervalMs: number,
    private readonly logger: Logger,
    private readonly dispatcher?: Dispatcher,
  ) {}

  /** Watches one subscription until `delete(watched)`. */
  add(watched: Watched): void {
    this.watched.add(watched);
    this.timer ??= setInterval(() => void this.tick(), this.intervalMs).unref();
  }

  delete(watched: Watched): void {
    this.watched.delete(watched);
    if (this.watched.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  get size(): number {
    return this.watched.size;
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  /** One check of every watched subscription; a tick still running when the next is due is not doubled. */
  async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const now = Date.now();
      // Each session with the revision its streams hold: auth answers only the sessions that moved on.
      const sessions = new Map<string, number>();
      for (const watched of [...this.watched]) {
        if (watched.expiresAtMs <= now) {
          this.end(watched, 'SESSION_EXPIRED');
          continue;
        }
        const { sessionId, revision } = watched.caller;
        if (!sessionId) continue;
        const known = sessions.get(sessionId);
        // Streams of one session at two revisions (one re-subscribed already): ask for it in full.
        sessions.set(sessionId, known === undefined || known === revision ? revision : UNKNOWN_REVISION);
      }
      if (sessions.size === 0) return;
      const states = await this.ask([...sessions.keys()], [...sessions.values()]);
      if (!states) return;
      for (const watched of [...this.watched]) {
        const sessionId = watched.caller.sessionId;
        const state = sessionId ? states[sessionId] : undefined;
        if (!state) continue;
        if (state.state === 'ended') this.end(watched, 'SESSION_ENDED');
        else if (state.state === 'deactivated') this.end(watched, 'ACCOUNT_DEACTIVATED');
        else if (isChanged(state.caller, watched.caller)) {
          // Parsed only when it differs: validating every active session's caller each tick was most of a tick's garbage.
          const caller = callerSchema.safeParse(state.caller);
          if (caller.success && (caller.data.role !== watched.caller.role || caller.data.revision !== watched.caller.revision)) {
            watched.caller = caller.data;
            watched.changed(caller.data);
          }
        }
      }
    } catch (error) {
      this.logger.error({ err: error }, 'checking the sessions of live subscriptions failed');
    } finally {
      this.ticking = false;
    }
  }

  private end(watched: Watched, code: SessionEnd): void {
    this.watched.delete(watched);
    watched.ended(code);
  }

  /** Where each session stands, asked in slices of SESSIONS_PER_ASK; undefined when auth did not answer one of them. */
  private async ask(sessions: string[], revisions: number[]): Promise<Record<string, SessionState> | undefined> {
    const states: Record<string, SessionState> = {};
    for (let from = 0; from < sessions.length; from += SESSIONS_PER_ASK) {
      const slice = await this.askOnce(sessions.slice(from, from + SESSIONS_PER_ASK), revisions.slice(from, from + SESSIONS_PER_ASK));
      if (!slice) return undefined;
      Object.assign(states, slice);
    }
    return states;
  }

  private async askOnce(sessions: string[], revisions: number[]): Promise<Record<string, SessionState> | undefined> {
    const requestId = randomUUID();
    const statement = signAnonymousStatement(this.key, { audience: statementAudience('auth'), requestId });
    try {
      const response = await undiciRequest(this.sessionsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [IDENTITY_HEADER]: statement, [REQUEST_ID_HEADER]: requestId },
        body: JSON.stringify({ sessions, revisions }),
        signal: AbortSignal.timeout(Math.max(1000, this.intervalMs)),
        dispatcher: this.dispatcher,
      });
      const body = (await response.body.json()) as { sessions?: Record<string, SessionState> };
      if (response.statusCode !== 200 || !body.sessions) throw new Error(`auth answered ${response.statusCode} to a sessions check`);
      return body.sessions;
    } catch (error) {
      this.logger.warn({ err: error, sessions: sessions.length }, 'auth did not answer the sessions check; streams stay until the next');
      return undefined;
    }
  }
}

/** Whether auth's answer names another role or revision than the caller watched (read before anything is parsed). */
function isChanged(answered: unknown, watched: Caller): boolean {
  if (typeof answered !== 'object' || answered === null) return true;
  const { role, revision } = answered as { role?: unknown; revision?: unknown };
  return role !== watched.role || revision !== watched.revision;
}
