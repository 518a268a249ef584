import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { GraphQLError } from 'graphql';
import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { PermissionStore } from '../access/permission-store';
import type { AccessContext } from '../access/shield';
import { unauthenticated } from '../errors';
import { IDENTITY_HEADER, type Caller, type IdentityVerifier } from '../identity';
import type { Logger } from '../logger';
import type { RequestScoped } from '../graphql-errors';
import { REQUEST_ID_HEADER } from '../tracing/request-id';

/** What every subgraph resolver gets. Services add nothing here: they take `em` and `caller`. */
export interface SubgraphContext<TServices = unknown> extends AccessContext, RequestScoped {
  em: EntityManager;
  logger: Logger;
  permissionStore: PermissionStore;
  /** The subgraph's own long-lived dependencies (queues, keys), the same for every request. */
  services: TServices;
}

export interface ContextDeps {
  orm: MikroORM;
  services: unknown;
  identities: IdentityVerifier;
  permissionStore: PermissionStore;
  logger: Logger;
}

const NO_PERMISSIONS: ReadonlySet<string> = new Set();

/**
 * One forked EntityManager per request; the caller comes only from the gateway's signed
 * statement for this subgraph and this request (a missing, forged or expired one, or one
 * made for another subgraph or another request id, is UNAUTHENTICATED, HTTP 401, before any
 * resolver runs; the gateway's anonymous statement makes an anonymous caller), and its
 * role's permissions are loaded once for the whole request. Building a context writes
 * nothing: the subgraph's copy of the directory is the replicator's (docs/architecture.md,
 * Identity), and the caller's own fields come from the signed statement.
 */
export async function buildContext(deps: ContextDeps, headers: IncomingHttpHeaders): Promise<SubgraphContext> {
  const offeredRequestId = headerValue(headers[REQUEST_ID_HEADER]);
  const requestId = offeredRequestId ?? randomUUID();
  const em = deps.orm.em.fork();
  const logger = deps.logger.child({ requestId });
  const identity = headerValue(headers[IDENTITY_HEADER]);
  const base = { em, logger, requestId, permissionStore: deps.permissionStore, services: deps.services };
  // Only the gateway may call: every request, anonymous ones included, carries its statement,
  // made for this subgraph and for the request id sent beside it.
  if (!identity) throw withHttpStatus(unauthenticated('This service answers only the gateway'), 401);
  let caller: Caller | null;
  try {
    caller = deps.identities.verify(identity, offeredRequestId);
  } catch (error) {
    throw withHttpStatus(error, 401);
  }
  if (!caller) return { ...base, caller: null, permissions: NO_PERMISSIONS };
  const permissions = await deps.permissionStore.permissionsOf(em, caller.role);
  return { ...base, caller, permissions };
}

/** A context failure is answered with this status instead of Apollo's default 500. */
function withHttpStatus(error: unknown, status: number): unknown {
  if (error instanceof GraphQLError) {
    return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status } } });
  }
  return error;
}

function headerValue(value: string | string[] | undefined): string | undefined {
  const single = Array.isArray(value) ? value[0] : value;
  return single && single.length <= 4096 ? single : undefined;
}
