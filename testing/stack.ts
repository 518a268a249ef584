import { randomUUID, type KeyObject } from 'node:crypto';
import type { Server } from 'node:http';
import { createLogger } from '../lib/logger';
import { IDENTITY_HEADER, signAnonymousStatement, signIdentity, statementAudience, type Caller } from '../lib/identity';
import { REQUEST_ID_HEADER } from '../lib/tracing/request-id';
import { loadPrivateKey } from '../lib/keys';
import { closeServer, listen } from '../lib/http';
import type { Env } from '../lib/env';
import { listenPublic, type Service } from '../lib/subgraph/serve';

export interface RunningService {
  /** The public port's origin: /graphql, /live, /ready. */
  url: string;
  port: number;
  server: Server;
  /** The internal port's origin: /health, /metrics (docs/operations.md "Internal port"). */
  internalUrl: string;
  internalPort: number;
  internalServer: Server;
  close(): Promise<void>;
}

/** Listens on two free loopback ports, public and internal; `close` stops both servers, then the service. */
export async function startOnFreePort(service: Service): Promise<RunningService> {
  const internal = await listen(service.internal, 0, '127.0.0.1');
  const { server, port, close } = await listenPublic(service, 0, '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    server,
    internalUrl: `http://127.0.0.1:${internal.port}`,
    internalPort: internal.port,
    internalServer: internal.server,
    async close() {
      await close();
      await closeServer(internal.server);
      await service.close();
    },
  };
}

export interface GraphQLResponse<TData> {
  data?: TData | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: { code?: string; [key: string]: unknown } }[];
  status: number;
}

/** The `extensions.code` of each error a result carries, in order (none: an empty list). */
export const codesOf = (result: { errors?: GraphQLResponse<unknown>['errors'] }) => (result.errors ?? []).map((error) => error.extensions?.code);

/** The data of a result that must have succeeded; any error fails the test with the errors listed. */
export function dataOf<TData>(result: GraphQLResponse<TData>): TData {
  if (result.errors !== undefined) throw new Error(`unexpected errors: ${JSON.stringify(result.errors)}`);
  if (!result.data) throw new Error('no data in a successful result');
  return result.data;
}

/** A thin GraphQL client for tests: posts JSON like any outside client does. */
export async function postGraphQL<TData = Record<string, unknown>>(
  url: string,
  query: string,
  variables: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<GraphQLResponse<TData>> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
  });
  const body = (await response.json()) as Omit<GraphQLResponse<TData>, 'status'>;
  return { ...body, status: response.status };
}

export const testLogger = (name: string) => createLogger(name);

/**
 * What the gateway sends `subgraph` with one request, for tests and benches that call a subgraph
 * directly as the gateway would: a fresh request id and the statement made for it and for that
 * subgraph, of `caller` (the anonymous statement when null). Each call is a new request.
 */
export function gatewayHeaders(env: Env, subgraph: string, caller: Caller | null = null): Record<string, string> {
  return statementHeaders(loadPrivateKey(env, 'gateway'), subgraph, caller);
}

/** `gatewayHeaders` signed with a key already loaded (a bench signs one per request). */
export function statementHeaders(key: KeyObject, subgraph: string, caller: Caller | null = null): Record<string, string> {
  const options = { audience: statementAudience(subgraph), requestId: randomUUID() };
  const statement = caller ? signIdentity(caller, key, options) : signAnonymousStatement(key, options);
  return { [REQUEST_ID_HEADER]: options.requestId, [IDENTITY_HEADER]: statement };
}

export type { Env };
