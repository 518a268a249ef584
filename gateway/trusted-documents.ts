import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Env } from '@popug/lib/env';

/**
 * Trusted documents (docs/security.md "Trusted documents"). The dashboards send the id of an
 * operation in gateway/trusted-documents.json (`extensions.persistedQuery.sha256Hash`, the
 * automatic-persisted-queries protocol) instead of its text; Apollo resolves the id through
 * `cache`, a lookup in a Map. With NODE_ENV=production, unless ALLOW_ARBITRARY_OPERATIONS
 * is set, `plugin` refuses every document that is not in the manifest before it runs: Apollo
 * has hashed the text of each request already (its document cache is keyed by it), so the
 * check is one Set lookup, and a request that carries its query costs no hashing more. (It
 * runs once the operation is parsed and validated, under the query limits: Apollo turns an
 * error thrown by an earlier hook into a 500.) In development there is
 * no plugin at all, and ids a client registers with their text are kept (bounded) as
 * Apollo's own APQ cache would.
 */
export const MANIFEST_FILE = join(__dirname, 'trusted-documents.json');

/** Apollo prefixes every APQ cache key with this. */
const APQ_PREFIX = 'apq:';
/** Registered (development) documents kept at most; the oldest goes first. */
const REGISTERED_LIMIT = 1000;

export const NOT_IN_MANIFEST = 'PERSISTED_QUERY_NOT_IN_LIST';

interface Manifest {
  format: string;
  version: number;
  operations: { id: string; name: string; body: string }[];
}

export interface TrustedDocuments {
  /** Apollo's `persistedQueries.cache`. */
  cache: { get(key: string): Promise<string | undefined>; set(key: string, value: string): Promise<void>; delete(key: string): Promise<boolean | void> };
  /** Present when only manifest documents are accepted. */
  plugin?: ApolloServerPlugin<BaseContext>;
  enforced: boolean;
  /** The manifest's operation names: the only ones that become metric labels. */
  operationNames: ReadonlySet<string>;
}

export function loadTrustedDocuments(env: Pick<Env, 'NODE_ENV' | 'ALLOW_ARBITRARY_OPERATIONS'>, file = MANIFEST_FILE): TrustedDocuments {
  const manifest = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
  if (manifest.format !== 'apollo-persisted-query-manifest' || manifest.version !== 1) throw new Error(`${file} is not an Apollo persisted query manifest, version 1`);
  const bodies = new Map(manifest.operations.map((operation) => [operation.id, operation.body]));
  const enforced = env.NODE_ENV === 'production' && !env.ALLOW_ARBITRARY_OPERATIONS;
  const registered = new Map<string, string>();
  const cache: TrustedDocuments['cache'] = {
    async get(key) {
      const id = key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key;
      return bodies.get(id) ?? registered.get(id);
    },
    async set(key, value) {
      // Where only the manifest is trusted, nothing a client sends is remembered.
      if (enforced) return;
      const id = key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key;
      if (registered.size >= REGISTERED_LIMIT) registered.delete(registered.keys().next().value ?? '');
      registered.set(id, value);
    },
    async delete(key) {
      return registered.delete(key.startsWith(APQ_PREFIX) ? key.slice(APQ_PREFIX.length) : key);
    },
  };
  const operationNames = new Set(manifest.operations.map((operation) => operation.name));
  return { cache, enforced, operationNames, plugin: enforced ? manifestOnly(new Set(bodies.keys())) : undefined };
}

function manifestOnly(ids: ReadonlySet<string>): ApolloServerPlugin<BaseContext> {
  const refusal = () =>
    new GraphQLError('This server runs only the operations of its trusted-documents manifest; send the id of one of them', {
      extensions: { code: NOT_IN_MANIFEST, http: { status: 400 } },
    });
  // One listener object for every request: nothing is allocated per request.
  const listener = {
    // Apollo answers an error thrown here (not earlier) as the client's: HTTP 400 with the code.
    async didResolveOperation({ queryHash }: { queryHash: string }) {
      if (!ids.has(queryHash)) throw refusal();
    },
  };
  return { requestDidStart: async () => listener };
}
