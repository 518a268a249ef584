import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { randomUUID, sign, verify, type KeyObject } from 'node:crypto';
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
const IDENTITY_ISSUER = 'popug-gateway';
const USER_TOKEN_ISSUER = 'popug-auth';
const USER_TOKEN_AUDIENCE = 'popug-jira';
const ALGORITHM = 'EdDSA';

/** The longest life a subgraph accepts in a statement: a replay has at most this long. */
export const STATEMENT_MAX_SECONDS = 30;
/** A statement dated this far ahead of the subgraph's clock is still taken (clocks of two hosts differ a little). */
const CLOCK_SKEW_SECONDS = 5;

/** The audience of a statement for one subgraph: `popug-tracker` is accepted by tracker and no other. */
export function statementAudience(subgraph: string): string {
  return `popug-${subgraph}`;
}

/** For whom and for which request a statement is made. */
export interface StatementOptions {
  /** The subgraph's audience (`statementAudience(name)`): no other subgraph accepts the statement. */
  audience: string;
  /** The request's x-request-id, sent beside the statement: the subgraph refuses it with any other. */
  requestId: string;
  /** At most STATEMENT_MAX_SECONDS (longer is signed, and refused by every subgraph). */
  ttlSeconds?: number;
}

/**
 * The JWS header of every statement, encoded once. Statements are compact JWS (RFC 7515) with
 * Ed25519, signed with node:crypto directly: jose's SignJWT and jwtVerify go through WebCrypto's
 * promises and builders, about 1.5 × the cost of the signature itself, and a statement is now
 * signed for every subgraph call (docs/performance.md "Statements").
 */
const STATEMENT_HEADER = Buffer.from(JSON.stringify({ alg: ALGORITHM, typ: 'JWT' })).toString('base64url');

interface StatementClaims {
  iss: string;
  aud: string;
  sub: string;
  rid: string;
  iat: number;
  exp: number;
}

function signStatement(claims: Record<string, unknown>, key: KeyObject): string {
  const input = `${STATEMENT_HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), key).toString('base64url')}`;
}

function statementClaims(subject: string, { audience, requestId, ttlSeconds = STATEMENT_MAX_SECONDS }: StatementOptions, nowMs: number): StatementClaims {
  const iat = Math.floor(nowMs / 1000);
  return { iss: IDENTITY_ISSUER, aud: audience, sub: subject, rid: requestId, iat, exp: iat + ttlSeconds };
}

/** A short-lived statement by the gateway to one subgraph: "this request is made by this user". */
export function signIdentity(caller: Caller, key: KeyObject, options: StatementOptions, nowMs = Date.now()): string {
  return signStatement({ ...statementClaims(caller.id, options, nowMs), email: caller.email, name: caller.name, role: caller.role, rev: caller.revision, sid: caller.sessionId }, key);
}

/** The subject of the gateway's statement for a request with no user: register, login. */
const ANONYMOUS_SUBJECT = 'anonymous';

/**
 * "This request comes through the gateway, from nobody signed in": subgraphs answer only
 * requests that carry a gateway statement, so anonymous ones carry this one.
 */
export function signAnonymousStatement(key: KeyObject, options: StatementOptions, nowMs = Date.now()): string {
  return signStatement({ ...statementClaims(ANONYMOUS_SUBJECT, options, nowMs), anon: true }, key);
}

/**
 * Checks the gateway's statements for one subgraph. Each is made for one subgraph (`aud`) and
 * one request (`rid`, equal to the request's x-request-id), lives at most STATEMENT_MAX_SECONDS,
 * and is signed with the gateway's Ed25519 key: a subgraph that replays a caller's statement
 * at another subgraph, or with another request id, or after half a minute, is refused.
 * No cache: every request brings a statement of its own.
 */
export class IdentityVerifier {
  constructor(
    private readonly key: KeyObject,
    private readonly audience: string,
    private readonly clock: Clock = systemClock,
  ) {}

  /** The caller the statement names, or null for the gateway's anonymous statement; UNAUTHENTICATED otherwise. */
  verify(token: string, requestId: string | undefined): Caller | null {
    const payload = this.verifiedPayload(token);
    if (!payload || !this.holds(payload, requestId)) throw unauthenticated('The forwarded identity is missing, forged or expired');
    if (payload.sub === ANONYMOUS_SUBJECT && payload.anon === true) return null;
    const caller = callerSchema.safeParse({ id: payload.sub, email: payload.email, name: payload.name, role: payload.role, revision: payload.rev, sessionId: payload.sid });
    if (!caller.success) throw unauthenticated('The forwarded identity is missing, forged or expired');
    return caller.data;
  }

  /** The claims of a statement signed by the gateway's key under the one header it uses, or undefined. */
  private verifiedPayload(token: string): Record<string, unknown> | undefined {
    // The header must be ours byte for byte: no other algorithm, key id or critical extension is read.
    if (!token.startsWith(`${STATEMENT_HEADER}.`)) return undefined;
    const dot = token.lastIndexOf('.');
    if (dot <= STATEMENT_HEADER.length) return undefined;
    const signature = Buffer.from(token.slice(dot + 1), 'base64url');
    if (!verify(null, Buffer.from(token.slice(0, dot)), this.key, signature)) return undefined;
    try {
      const payload: unknown = JSON.parse(Buffer.from(token.slice(STATEMENT_HEADER.length + 1, dot), 'base64url').toString('utf8'));
      return typeof payload === 'object' && payload !== null && !Array.isArray(payload) ? (payload as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Made by the gateway, for this subgraph and this request, now, for no more than the longest life. */
  private holds(claims: Record<string, unknown>, requestId: string | undefined): boolean {
    const { iss, aud, rid, iat, exp } = claims;
    if (iss !== IDENTITY_ISSUER || aud !== this.audience) return false;
    if (requestId === undefined || rid !== requestId) return false;
    if (typeof iat !== 'number' || typeof exp !== 'number' || !Number.isInteger(iat) || !Number.isInteger(exp)) return false;
    const now = this.clock.now() / 1000;
    // A statement dated in the future would live past its 30 s from now: refused beyond the skew.
    return exp - iat <= STATEMENT_MAX_SECONDS && iat <= now + CLOCK_SKEW_SECONDS && now < exp;
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
