import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, type FieldNode, type ValueNode } from 'graphql';
import type { Redis } from 'ioredis';
import type { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Env } from '@popug/lib/env';
import { AppError } from '@popug/lib/errors';
import { THROTTLE_KEY_SPACE } from '@popug/lib/redis-users';
import type { Logger } from '@popug/lib/logger';
import type { TrustProxy } from '@popug/lib/trust-proxy';
import { addressBucket, consumeInOrder, mutationRootFields, rateLimited, redisLimiter, type Window } from './rate-limits';

/**
 * Login and registration attempts, counted in Redis so the counts hold across every
 * gateway process. It runs at the gateway because only the gateway sees the caller's
 * address (auth sees the gateway's), and before any argon2 work is queued in auth. Each
 * `login`/`register` field of an operation is one attempt, aliases included. Should
 * Redis fail, each process falls back to counting (and locking) in memory.
 *
 * Logins (OWASP Authentication Cheat Sheet, "Login Throttling"): refused per client address
 * and per (client address, email) pair, which stop the one guessing; per email from
 * anywhere, at most one login runs at a time (a second one at once is refused, not queued)
 * and at most a few a minute are let through, so a botnet's many addresses guess no faster
 * than one. The email's window is short, so the right password works again a minute after
 * a flood stops: a limit, never a lockout. Registrations are refused per client address and
 * overall, never per email: a limit by email would let anyone block a victim's sign-up.
 * Addresses count in buckets: IPv6 per /64 (rate-limits.ts, addressBucket).
 */

type Attempt = 'login' | 'register';

export interface SignInLimits {
  loginPerPair: Window;
  loginPerIp: Window;
  /** Logins on one email from any address, over which they are refused. */
  loginPerEmail: Window;
  /** How long one login holds its email if its end is never seen (a gateway that died mid-login). */
  loginInFlightMaxMs: number;
  registerPerIp: Window;
  /** Registrations from every address together. */
  registerOverall: Window;
}

export function signInLimits(env: Env): SignInLimits {
  return {
    loginPerPair: { points: env.RATE_LIMIT_LOGIN_PAIR_PER_MIN, durationSeconds: 60 },
    loginPerIp: { points: env.RATE_LIMIT_LOGIN_IP_PER_MIN, durationSeconds: 60 },
    loginPerEmail: { points: env.RATE_LIMIT_LOGIN_EMAIL_PER_MIN, durationSeconds: 60 },
    loginInFlightMaxMs: env.LOGIN_IN_FLIGHT_MAX_MS,
    registerPerIp: { points: env.RATE_LIMIT_REGISTER_IP_PER_HOUR, durationSeconds: 3600 },
    registerOverall: { points: env.RATE_LIMIT_REGISTER_PER_HOUR, durationSeconds: 3600 },
  };
}

export interface ThrottledContext {
  /** The address attempts are counted against, worked out only when a sign-in asks for it. */
  clientAddress?: () => string;
}

export interface SignInAttempt {
  kind: Attempt;
  email: string;
}

/** Deletes the lock only while it is still ours: one that expired and was taken by another login stays. */
const RELEASE_IF_OURS = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";
const OVERALL = 'all';
/** A login ends in well under a second (the lock's expiry is only the safety net): try again in one. */
const alreadySigningIn = () => rateLimited('sign-in attempts on this email at once', 1);

export class SignInThrottle {
  private readonly login: { byIp: RateLimiterRedis; byPair: RateLimiterRedis; byEmail: RateLimiterRedis };
  private readonly register: { byIp: RateLimiterRedis; overall: RateLimiterRedis };
  private readonly inFlightPrefix: string;
  /** Emails with a login running in this process, for while Redis cannot hold the locks. */
  private readonly inFlightHere = new Set<string>();

  constructor(
    private readonly redis: Redis,
    keyPrefix: string,
    private readonly limits: SignInLimits,
  ) {
    const limiter = (name: string, window: Window) => redisLimiter(redis, keyPrefix, name, window);
    this.login = {
      byIp: limiter('login-ip', limits.loginPerIp),
      byPair: limiter('login-pair', limits.loginPerPair),
      byEmail: limiter('login-email', limits.loginPerEmail),
    };
    this.register = { byIp: limiter('register-ip', limits.registerPerIp), overall: limiter('register-all', limits.registerOverall) };
    this.inFlightPrefix = `${keyPrefix}:${THROTTLE_KEY_SPACE}:login-in-flight:`;
  }

  /** Counts one attempt from `clientIp`; throws RATE_LIMITED (HTTP 429, Retry-After) when a limit is spent. */
  async attempt({ kind, email }: SignInAttempt, clientIp: string): Promise<void> {
    const bucket = addressBucket(clientIp);
    if (kind === 'login') {
      const { byIp, byPair, byEmail } = this.login;
      await consumeInOrder('sign-in attempts', [
        { limiter: byIp, key: bucket },
        { limiter: byPair, key: `${bucket}|${email}` },
        { limiter: byEmail, key: email },
      ]);
    } else {
      await consumeInOrder('registrations', [
        { limiter: this.register.byIp, key: bucket },
        { limiter: this.register.overall, key: OVERALL },
      ]);
    }
  }

  /**
   * Takes `email`'s in-flight lock for one login, or throws RATE_LIMITED at once while another
   * login on it runs. The caller must call the returned release when the login ends; the lock
   * expires by itself after `loginInFlightMaxMs` should that never happen.
   */
  async holdEmail(email: string): Promise<() => Promise<void>> {
    const ttl = this.limits.loginInFlightMaxMs;
    if (this.redis.status !== 'ready') return this.holdHere(email);
    const key = `${this.inFlightPrefix}${email}`;
    const token = randomUUID();
    let taken: string | null;
    try {
      taken = await this.redis.set(key, token, 'PX', ttl, 'NX');
    } catch {
      return this.holdHere(email);
    }
    if (taken !== 'OK') throw alreadySigningIn();
    return async () => {
      await this.redis.eval(RELEASE_IF_OURS, 1, key, token).catch(() => undefined);
    };
  }

  private holdHere(email: string): () => Promise<void> {
    if (this.inFlightHere.has(email)) throw alreadySigningIn();
    this.inFlightHere.add(email);
    const timer = setTimeout(() => this.inFlightHere.delete(email), this.limits.loginInFlightMaxMs).unref();
    return async () => {
      clearTimeout(timer);
      this.inFlightHere.delete(email);
    };
  }

  /**
   * The plugin that counts the `login` and `register` fields of each mutation before it runs,
   * and holds each login's email until the answer is sent (willSendResponse comes for every
   * answer, a refused or failed one too).
   */
  plugin<TContext extends ThrottledContext>(logger: Logger): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async () => {
        const releases: (() => Promise<void>)[] = [];
        const releaseAll = async () => {
          await Promise.all(releases.splice(0).map((release) => release()));
        };
        return {
          didResolveOperation: async (requestContext) => {
            const attempts = signInAttempts(requestContext);
            if (attempts.length === 0) return;
            const clientIp = requestContext.contextValue.clientAddress?.() ?? 'unknown';
            try {
              for (const { kind, email } of attempts) if (kind === 'login') releases.push(await this.holdEmail(email));
              for (const attempt of attempts) await this.attempt(attempt, clientIp);
            } catch (error) {
              await releaseAll();
              if (error instanceof AppError) logger.warn({ kinds: attempts.map(({ kind }) => kind), clientIp }, 'sign-in attempts throttled');
              throw error;
            }
          },
          willSendResponse: releaseAll,
        };
      },
    };
  }
}

/** The `login`/`register` root fields of a mutation, with the email each names (normalised as auth does). */
export function signInAttempts<TContext extends ThrottledContext>(requestContext: GraphQLRequestContextDidResolveOperation<TContext>): SignInAttempt[] {
  const variables = requestContext.request.variables ?? {};
  return mutationRootFields(requestContext).flatMap((node) => {
    const kind = node.name.value;
    return kind === 'login' || kind === 'register' ? [{ kind, email: emailArgument(node, variables) }] : [];
  });
}

function emailArgument(field: FieldNode, variables: Record<string, unknown>): string {
  const value: ValueNode | undefined = field.arguments?.find((argument) => argument.name.value === 'email')?.value;
  const raw = value?.kind === Kind.STRING ? value.value : value?.kind === Kind.VARIABLE ? variables[value.name.value] : undefined;
  return typeof raw === 'string' ? raw.trim().toLowerCase().slice(0, 320) : '(no email)';
}

/** The address the throttles count against: the socket's, or what trusted proxies say. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  return proxyaddr(req, trust);
}
