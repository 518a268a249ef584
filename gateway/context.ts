import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { bearerToken, type Caller } from '@popug/lib/identity';
import { tagRequest, REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import type { IdentityClient } from './identity-client';
import type { IdentitySigner, StatementFor } from './identity-signer';

export interface GatewayContext {
  requestId: string;
  caller: Caller | null;
  /** The address the request came from (behind TRUST_PROXY proxies), for the throttles; worked out when called. */
  clientAddress?: () => string;
  /**
   * The gateway's statement forwarded to a subgraph: the signed caller (or the anonymous
   * statement) for that subgraph and this request id only.
   */
  statementFor?: StatementFor;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,100}$/;

/** No token: anonymous (register, login). A token: it must belong to an existing, active user. */
export async function buildGatewayContext(
  headers: IncomingHttpHeaders,
  identities: IdentityClient,
  signer: IdentitySigner,
): Promise<GatewayContext> {
  const offered = headers[REQUEST_ID_HEADER];
  const requestId = typeof offered === 'string' && REQUEST_ID.test(offered) ? offered : randomUUID();
  tagRequest(requestId);
  const token = bearerToken(headers.authorization);
  if (!token) return { requestId, caller: null, statementFor: signer.forRequest(null, requestId) };
  const caller = await identities.resolve(token, requestId);
  return { requestId, caller, statementFor: signer.forRequest(caller, requestId) };
}
