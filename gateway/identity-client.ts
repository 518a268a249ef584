import { GraphQLError } from 'graphql';
import { callerSchema, type Caller } from '@popug/lib';

/**
 * Asks auth who a token belongs to, on every request (DESIGN.md section 2), through a
 * short cache: a deactivation or role change is seen within `ttlMs` (kept under 5 s).
 */
export class IdentityClient {
  private readonly cache = new Map<string, { caller: Caller; until: number }>();

  constructor(
    private readonly identityUrl: string,
    private readonly ttlMs: number,
    private readonly maxEntries = 50_000,
  ) {}

  async resolve(token: string, requestId: string): Promise<Caller> {
    const hit = this.cache.get(token);
    if (hit && hit.until > Date.now()) return hit.caller;
    const response = await fetch(this.identityUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'x-request-id': requestId },
      signal: AbortSignal.timeout(5000),
    }).catch((error: unknown) => {
      throw new Error(`auth is unreachable: ${(error as Error).message}`);
    });
    const body = (await response.json().catch(() => ({}))) as { caller?: unknown; message?: string };
    if (response.status === 401) {
      this.cache.delete(token);
      throw new GraphQLError(body.message ?? 'Sign in again', {
        extensions: { code: 'UNAUTHENTICATED', http: { status: 401 } },
      });
    }
    if (!response.ok) throw new Error(`auth answered ${response.status} to an identity lookup`);
    const caller = callerSchema.parse(body.caller);
    if (this.cache.size >= this.maxEntries) this.cache.clear();
    this.cache.set(token, { caller, until: Date.now() + this.ttlMs });
    return caller;
  }
}
