import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';
import type { ApolloServerPlugin, GraphQLRequestContextDidResolveOperation } from '@apollo/server';
import { Kind, type FieldNode, type FragmentDefinitionNode, type ValueNode } from 'graphql';
import { collectFields } from 'graphql/execution/collectFields';
import type { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import type { Env } from '@popug/lib/env';
import { AppError } from '@popug/lib/errors';
import { THROTTLE_KEY_SPACE } from '@popug/lib/redis-users';
import type { Logger } from '@popug/lib/logger';

/**
 * Login and registration attempts, counted in Redis so the counts hold across every
 * gateway process. It runs at the gateway because only the gateway sees the caller's
 * address (auth sees the gateway's), and before any argon2 work is queued in auth. Each
 * `login`/`register` field of an operation is one attempt, aliases included. Should
 * Redis fail, each process falls back to counting in memory.
 *
 * Logins follow the OWASP Authentication Cheat Sheet: refused (429) per client IP and per
 * (client IP, email) pair, which only ever stops the one guessing; per email from anywhere
 * they are only slowed down, each attempt over the limit held back twice as long as the
 * one before (250 ms, 500 ms, … up to LOGIN_SLOWDOWN_MAX_MS), so a flood of wrong
 * passwords from a botnet costs it time, and the right password from anywhere still works.
 */

type Attempt = 'login' | 'register';

interface Window {
  points: number;
  durationSeconds: number;
}

export interface SignInLimits {
  loginPerPair: Window;
  loginPerIp: Window;
  /** Attempts on one email before each further one is slowed down. */
  loginPerEmail: Window;
  loginSlowdownMaxMs: number;
  registerPerEmail: Window;
  registerPerIp: Window;
}

export function signInLimits(env: Env): SignInLimits {
  return {
    loginPerPair: { points: env.RATE_LIMIT_LOGIN_PAIR_PER_MIN, durationSeconds: 60 },
    loginPerIp: { points: env.RATE_LIMIT_LOGIN_IP_PER_MIN, durationSeconds: 60 },
    loginPerEmail: { points: env.RATE_LIMIT_LOGIN_EMAIL_PER_MIN, durationSeconds: 60 },
    loginSlowdownMaxMs: env.LOGIN_SLOWDOWN_MAX_MS,
    registerPerEmail: { points: env.RATE_LIMIT_REGISTER_EMAIL_PER_HOUR, durationSeconds: 3600 },
    registerPerIp: { points: env.RATE_LIMIT_REGISTER_IP_PER_HOUR, durationSeconds: 3600 },
  };
}

export interface ThrottledContext {
  /** The address attempts are counted against, worked out only when a sign-in asks for it. */
  clientAddress?: () => string;
}

const FIRST_SLOWDOWN_MS = 250;
/** A count, never a refusal: the per-email window only measures how hard an email is tried. */
const UNLIMITED = 1_000_000_000;

/** How long to hold back an attempt that is the `attempt`-th on its email this window. */
export function slowdownMs(attempt: number, freeAttempts: number, maxMs: number): number {
  const over = attempt - freeAttempts;
  if (over <= 0) return 0;
  return Math.min(maxMs, FIRST_SLOWDOWN_MS * 2 ** Math.min(over - 1, 30));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class SignInThrottle {
  private readonly refusing: Record<Attempt, { byIp: RateLimiterRedis; byKey: RateLimiterRedis }>;
  private readonly loginsPerEmail: RateLimiterRedis;

  constructor(
    redis: Redis,
    keyPrefix: string,
    private readonly limits: SignInLimits,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {
    const limiter = (name: string, window: Window) =>
      new RateLimiterRedis({
        storeClient: redis,
        keyPrefix: `${keyPrefix}:${THROTTLE_KEY_SPACE}:${name}`,
        points: window.points,
        duration: window.durationSeconds,
        rejectIfRedisNotReady: true,
        insuranceLimiter: new RateLimiterMemory({ points: window.points, duration: window.durationSeconds }),
      });
    this.refusing = {
      login: { byIp: limiter('login-ip', limits.loginPerIp), byKey: limiter('login-pair', limits.loginPerPair) },
      register: { byIp: limiter('register-ip', limits.registerPerIp), byKey: limiter('register-email', limits.registerPerEmail) },
    };
    this.loginsPerEmail = limiter('login-email', { points: UNLIMITED, durationSeconds: limits.loginPerEmail.durationSeconds });
  }

  /**
   * Counts one attempt; throws TOO_MANY_REQUESTS (HTTP 429, Retry-After) when the client's
   * limit is spent, and holds a login back while its email is tried too often.
   */
  async attempt(kind: Attempt, clientIp: string, email: string): Promise<void> {
    const { byIp, byKey } = this.refusing[kind];
    const key = kind === 'login' ? `${clientIp}|${email}` : email;
    const outcomes = await Promise.allSettled([byIp.consume(clientIp), byKey.consume(key)]);
    const refusals = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [outcome.reason as unknown] : []));
    if (refusals.length > 0) {
      const waits = refusals.map((reason) => (reason instanceof RateLimiterRes ? reason.msBeforeNext : 1000));
      const retryAfter = Math.max(1, Math.ceil(Math.max(...waits) / 1000));
      throw new AppError('TOO_MANY_REQUESTS', `Too many ${kind} attempts: try again in ${retryAfter} s`, {
        retryAfter,
        http: { status: 429, headers: new Map([['retry-after', String(retryAfter)]]) },
      });
    }
    if (kind === 'login') await this.wait(await this.emailSlowdownMs(email));
  }

  private async emailSlowdownMs(email: string): Promise<number> {
    const counted = await this.loginsPerEmail.consume(email).catch(() => undefined);
    if (!counted) return 0;
    return slowdownMs(counted.consumedPoints, this.limits.loginPerEmail.points, this.limits.loginSlowdownMaxMs);
  }

  /** The plugin that counts the `login` and `register` fields of each mutation before it runs. */
  plugin<TContext extends ThrottledContext>(logger: Logger): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async () => ({
        didResolveOperation: async (requestContext) => {
          const attempts = signInAttempts(requestContext);
          for (const { kind, email } of attempts) {
            const clientIp = requestContext.contextValue.clientAddress?.() ?? 'unknown';
            try {
              await this.attempt(kind, clientIp, email);
            } catch (error) {
              if (error instanceof AppError) logger.warn({ kind, clientIp }, 'sign-in attempts throttled');
              throw error;
            }
          }
        },
      }),
    };
  }
}

/** The `login`/`register` root fields of a mutation, with the email each names (normalised as auth does). */
export function signInAttempts<TContext extends ThrottledContext>(
  requestContext: GraphQLRequestContextDidResolveOperation<TContext>,
): { kind: Attempt; email: string }[] {
  const { operation, document, schema } = requestContext;
  const mutationType = schema.getMutationType();
  if (operation?.operation !== 'mutation' || !mutationType) return [];
  const variables = requestContext.request.variables ?? {};
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const definition of document.definitions) {
    if (definition.kind === Kind.FRAGMENT_DEFINITION) fragments[definition.name.value] = definition;
  }
  const fields = collectFields(schema, fragments, variables, mutationType, operation.selectionSet);
  const attempts: { kind: Attempt; email: string }[] = [];
  for (const [, nodes] of fields) {
    const node = nodes[0];
    const kind = node?.name.value;
    if (node && (kind === 'login' || kind === 'register')) attempts.push({ kind, email: emailArgument(node, variables) });
  }
  return attempts;
}

function emailArgument(field: FieldNode, variables: Record<string, unknown>): string {
  const value: ValueNode | undefined = field.arguments?.find((argument) => argument.name.value === 'email')?.value;
  const raw = value?.kind === Kind.STRING ? value.value : value?.kind === Kind.VARIABLE ? variables[value.name.value] : undefined;
  return typeof raw === 'string' ? raw.trim().toLowerCase().slice(0, 320) : '(no email)';
}

/** Which proxies in front of the gateway may name the client (X-Forwarded-For), as proxy-addr asks. */
export type TrustProxy = (address: string, hop: number) => boolean;

/** TRUST_PROXY read as Express reads `trust proxy`: a hop count, `true`/`false`, or addresses/subnets ("loopback, 10.0.0.0/8"). */
export function trustProxy(value: string | undefined): TrustProxy {
  if (!value || value === 'false') return () => false;
  if (value === 'true') return () => true;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    return (_address, hop) => hop < hops;
  }
  return proxyaddr.compile(value.split(',').map((entry) => entry.trim()));
}

/** The address sign-in attempts are counted against: the socket's, or what trusted proxies say. */
export function clientAddress(req: IncomingMessage, trust: TrustProxy): string {
  return proxyaddr(req, trust);
}
