import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { randomUUID, type KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { staleEntrySweeper } from './stale-sweep';
import { z } from 'zod';
import { systemClock, type Clock } from './clock';
import { unauthenticated } from './errors';

/** Who is calling, as auth resolved it and the gateway vouches for it. */
export const callerSchema = z.object({
  id: z.string().uuid(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  /** auth's revision of the user; replicas keep the newest copy they have seen. */
  revision: z.number().int().nonnegative(),
  /** The session (auth's `sessions` row) the caller's access token belongs to: what `logout` ends. */
  sessionId: z.string().uuid().optional(),
});
export type Caller = z.infer<typeof callerSchema>;

/** The header in which the gateway forwards the signed caller to subgraphs. */
export const IDENTITY_HEADER = 'x-popug-identity';
const IDENTITY_AUDIENCE = 'popug-subgraphs';
const IDENTITY_ISSUER = 'popug-gateway';
const USER_TOKEN_ISSUER = 'popug-auth';
const USER_TOKEN_AUDIENCE = 'popug-jira';
const ALGORITHM = 'EdDSA';

/** A short-lived statement by the gateway: "this request is made by this user". */
export async function signIdentity(caller: Caller, key: KeyObject, ttlSeconds = 60): Promise<string> {
  return new SignJWT({ email: caller.email, name: caller.name, role: caller.role, rev: caller.revision, sid: caller.sessionId })
    .setProtectedHeader({ alg: ALGORITHM })
    .setSubject(caller.id)
    .setIssuer(IDENTITY_ISSUER)
    .setAudience(IDENTITY_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/** The subject of the gateway's statement for a request with no user: register, login. */
const ANONYMOUS_SUBJECT = 'anonymous';

/**
 * "This request comes through the gateway, from nobody signed in": subgraphs answer only
 * requests that carry a gateway statement, so anonymous ones carry this one.
 */
export async function signAnonymousStatement(key: KeyObject, ttlSeconds = 60): Promise<string> {
  return new SignJWT({ anon: true })
    .setProtectedHeader({ alg: ALGORITHM })
    .setSubject(ANONYMOUS_SUBJECT)
    .setIssuer(IDENTITY_ISSUER)
    .setAudience(IDENTITY_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key);
}

/**
 * Checks the gateway's statements, each string once: the gateway reuses a statement for
 * half its life, so a busy user's requests all carry the same one. A statement verified
 * before is answered from memory until its own expiry — what verifying it again would say.
 */
export class IdentityVerifier {
  // Wrapped: the anonymous statement's caller is null, which a cache cannot hold as a value.
  private readonly verified: LRUCache<string, { caller: Caller | null }>;
  private readonly sweepStale: () => void;

  constructor(
    private readonly key: KeyObject,
    maxEntries = 10_000,
    private readonly clock: Clock = systemClock,
  ) {
    // Least recently used statements go first when full; each leaves when it expires.
    this.verified = new LRUCache({ max: maxEntries, perf: clock, ttlResolution: 0 });
    // The gateway signs a new statement per user every half minute: expired ones go within a minute.
    this.sweepStale = staleEntrySweeper(this.verified, 60_000, clock);
  }

  /** Statements held in memory: never more than the size it was given. */
  get size(): number {
    return this.verified.size;
  }

  /** The caller the statement names, or null for the gateway's anonymous statement. */
  async verify(token: string): Promise<Caller | null> {
    const known = this.verified.get(token);
    if (known) return known.caller;
    const statement = await verifyStatement(token, this.key, new Date(this.clock.now()));
    const lifeMs = Math.floor(statement.expiresAtMs - this.clock.now());
    this.sweepStale();
    if (lifeMs > 0) this.verified.set(token, { caller: statement.caller }, { ttl: lifeMs });
    return statement.caller;
  }
}

async function verifyStatement(token: string, key: KeyObject, currentDate: Date): Promise<{ caller: Caller | null; expiresAtMs: number }> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: IDENTITY_ISSUER,
      audience: IDENTITY_AUDIENCE,
      requiredClaims: ['exp'],
      currentDate,
    });
    const expiresAtMs = (payload.exp ?? 0) * 1000;
    if (payload.sub === ANONYMOUS_SUBJECT && payload.anon === true) return { caller: null, expiresAtMs };
    const caller = callerSchema.parse({
      id: payload.sub,
      email: payload.email,
      name: payload.name,
      role: payload.role,
      revision: payload.rev,
      sessionId: payload.sid,
    });
    return { caller, expiresAtMs };
  } catch {
    throw unauthenticated('The forwarded identity is missing, forged or expired');
  }
}

export interface UserToken {
  token: string;
  expiresAt: Date;
}

/**
 * An access token: who (`sub`), in which session (`sid`), this token (`jti`), when issued and
 * until when (`iat`, `exp`). auth refuses a token without any of them (verifyUserToken).
 */
export async function signUserToken(userId: string, key: KeyObject, ttlSeconds: number, sessionId: string): Promise<UserToken> {
  const expiresAt = new Date(Math.floor(Date.now() / 1000 + ttlSeconds) * 1000);
  const token = await new SignJWT({ sid: sessionId })
    .setProtectedHeader({ alg: ALGORITHM })
    .setSubject(userId)
    .setJti(randomUUID())
    .setIssuer(USER_TOKEN_ISSUER)
    .setAudience(USER_TOKEN_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(expiresAt)
    .sign(key);
  return { token, expiresAt };
}

export interface VerifiedUserToken {
  userId: string;
  sessionId: string;
}

const UUID = z.string().uuid();

/**
 * The user and session of a valid access token; any other token is UNAUTHENTICATED. A token
 * without `exp` would never expire and one without `sid` could never be ended: both refused.
 */
export async function verifyUserToken(token: string, key: KeyObject): Promise<VerifiedUserToken> {
  try {
    const { payload } = await jwtVerify(token, key, {
      algorithms: [ALGORITHM],
      issuer: USER_TOKEN_ISSUER,
      audience: USER_TOKEN_AUDIENCE,
      requiredClaims: ['sub', 'sid', 'jti', 'iat', 'exp'],
    });
    const userId = UUID.safeParse(payload.sub);
    const sessionId = UUID.safeParse(payload.sid);
    if (!userId.success || !sessionId.success || typeof payload.jti !== 'string') throw unauthenticated();
    return { userId: userId.data, sessionId: sessionId.data };
  } catch (error) {
    if (error instanceof joseErrors.JWTExpired) throw unauthenticated('Your session has expired: sign in again');
    throw unauthenticated('The token is not valid: sign in again');
  }
}

export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
  return match?.[1];
}

/** For resolvers behind a signed-in rule: the caller, or UNAUTHENTICATED if shield was bypassed. */
export function requireCaller(caller: Caller | null): Caller {
  if (!caller) throw unauthenticated();
  return caller;
}
