import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { GraphQLError } from 'graphql';
import type { Env } from '@popug/lib/env';
import type { GraphQLAdmission, GraphQLRefusal } from '@popug/lib/graphql-endpoint';
import type { Logger } from '@popug/lib/logger';

/**
 * Trusted documents (docs/security.md "Trusted documents"). The dashboards send the id of an
 * operation in gateway/trusted-documents.json (`extensions.persistedQuery.sha256Hash`, the
 * automatic-persisted-queries protocol) instead of its text; Apollo resolves the id through
 * `cache`, a lookup in a Map. With NODE_ENV=production, unless ALLOW_ARBITRARY_OPERATIONS
 * is set, `admit` refuses every document that is not in the manifest on the HTTP request,
 * before Apollo parses or validates anything: a refusal says nothing about the schema.
 * (Apollo has no public hook that refuses a request as the client's before it parses: an
 * error thrown from `didResolveSource` is answered as a 500.) An id costs one Map lookup and
 * no hashing; a text one Map lookup by the text. In development there is no such refusal,
 * and ids a client registers with their text are kept (bounded) as Apollo's own APQ cache
 * would.
 */
export const MANIFEST_FILE = join(__dirname, 'trusted-documents.json');

/** Apollo prefixes every APQ cache key with this. */
const APQ_PREFIX = 'apq:';
/** Registered (development) documents kept at most; the oldest goes first. */
const REGISTERED_LIMIT = 1000;

export const NOT_IN_MANIFEST = 'PERSISTED_QUERY_NOT_IN_LIST';
/** A document sent with an id that is not the id of its text: the client's mistake (Apollo Router's code for it). */
export const ID_MISMATCH = 'PERSISTED_QUERY_HASH_MISMATCH';

const NOT_IN_MANIFEST_REFUSAL: GraphQLRefusal = {
  status: 400,
  code: NOT_IN_MANIFEST,
  message: 'This server runs only the operations of its trusted-documents manifest; send the id of one of them',
};
const ID_MISMATCH_REFUSAL: GraphQLRefusal = {
  status: 400,
  code: ID_MISMATCH,
  message: 'The document sent is not the one its persistedQuery id names; send the id alone, or the text it was made from',
};

const NOT_FOUND_REFUSAL: GraphQLRefusal = { status: 400, code: 'PERSISTED_QUERY_NOT_FOUND', message: 'Send the text of the operation or the id of a trusted document' };

interface Manifest {
  format: string;
  version: number;
  operations: { id: string; name: string; body: string }[];
}

export interface TrustedDocuments {
  /** Apollo's `persistedQueries.cache`. */
  cache: { get(key: string): Promise<string | undefined>; set(key: string, value: string): Promise<void>; delete(key: string): Promise<boolean | void> };
  /** Present when only manifest documents are accepted: a second line behind `admit`, for any way in that skips it. */
  plugin?: ApolloServerPlugin<BaseContext>;
  /** Decides on the HTTP request, before Apollo parses anything (lib/graphql-endpoint.ts). */
  admit: GraphQLAdmission;
  /**
   * One request's document text, decided as `admit` decides (a subscription over SSE or
   * WebSocket, which Apollo never sees): the text, or why it is refused.
   */
  documentOf(request: unknown): { query: string } | { refusal: GraphQLRefusal };
  enforced: boolean;
  /** The manifest's operation names: the only ones that become metric labels. */
  operationNames: ReadonlySet<string>;
  /** A manifest operation's exact text, by name (what the gateway itself runs, as /session/* do); throws when the manifest has none. */
  bodyNamed(name: string): string;
}

export function loadTrustedDocuments(env: Pick<Env, 'NODE_ENV' | 'ALLOW_ARBITRARY_OPERATIONS'>, logger: Logger, file = MANIFEST_FILE): TrustedDocuments {
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
  const bodyNamed = (name: string): string => {
    const body = manifest.operations.find((operation) => operation.name === name)?.body;
    if (!body) throw new Error(`the trusted-documents manifest has no ${name} operation`);
    return body;
  };
  const known: Known = { bodies, texts: new Set(bodies.values()), enforced };
  const admitOne = (request: unknown) => admission(request, known);
  const admit: GraphQLAdmission = ({ method, search, body }) => {
    let refusal: GraphQLRefusal | undefined;
    if (method === 'GET') refusal = fromSearch(search).map(admitOne).find(Boolean);
    else if (method === 'POST' && Array.isArray(body)) refusal = body.map(admitOne).find(Boolean);
    else if (method === 'POST') refusal = admitOne(body);
    // A client's mistake, or someone probing: worth a line, not an alert (no stack, no text).
    if (refusal === ID_MISMATCH_REFUSAL) logger.info({ code: ID_MISMATCH }, 'a document was sent with an id that is not its own');
    return refusal;
  };
  const documentOf: TrustedDocuments['documentOf'] = (request) => {
    const refusal = admitOne(request);
    if (refusal) return { refusal };
    const { query, extensions } = isRecord(request) ? request : {};
    if (typeof query === 'string') return { query };
    const id = isRecord(extensions) && isRecord(extensions.persistedQuery) ? extensions.persistedQuery.sha256Hash : undefined;
    const text = typeof id === 'string' ? (bodies.get(id) ?? registered.get(id)) : undefined;
    return text === undefined ? { refusal: NOT_FOUND_REFUSAL } : { query: text };
  };
  return { cache, enforced, operationNames, bodyNamed, admit, documentOf, plugin: enforced ? manifestOnly(new Set(bodies.keys())) : undefined };
}

interface Known {
  bodies: ReadonlyMap<string, string>;
  texts: ReadonlySet<string>;
  enforced: boolean;
}

/**
 * One GraphQL request as Apollo will read it (@apollo/server's runHttpQuery): `query` when it
 * is a string, `extensions.persistedQuery` when present. What Apollo refuses anyway before it
 * parses (no query, a bad shape, another APQ version) is left for it to answer; every text
 * that could reach its parser is decided here.
 */
function admission(request: unknown, known: Known): GraphQLRefusal | undefined {
  if (!isRecord(request)) return undefined;
  const query = typeof request.query === 'string' ? request.query : undefined;
  const persisted = isRecord(request.extensions) ? request.extensions.persistedQuery : undefined;
  if (persisted) {
    if (!isRecord(persisted) || persisted.version !== 1) return undefined;
    const id = persisted.sha256Hash;
    const body = typeof id === 'string' ? known.bodies.get(id) : undefined;
    if (body !== undefined) return query === undefined || query === body ? undefined : ID_MISMATCH_REFUSAL;
    if (known.enforced) return NOT_IN_MANIFEST_REFUSAL;
    // Development registers ids: Apollo hashes the text too, but answers a mismatch as its own failure.
    return query !== undefined && id !== createHash('sha256').update(query).digest('hex') ? ID_MISMATCH_REFUSAL : undefined;
  }
  if (!known.enforced || !query) return undefined;
  return known.texts.has(query) ? undefined : NOT_IN_MANIFEST_REFUSAL;
}

/**
 * A GET's requests as Apollo reads them: `query` and the `extensions` JSON. A `query` given
 * twice Apollo refuses; here each must pass all the same. Extensions that do not parse are
 * Apollo's to refuse, so the request is decided on its text alone.
 */
function fromSearch(search: string): unknown[] {
  const params = new URLSearchParams(search);
  let extensions: unknown;
  try {
    extensions = JSON.parse(params.get('extensions') ?? 'null') as unknown;
  } catch {
    extensions = undefined;
  }
  const queries = params.getAll('query');
  return queries.length === 0 ? [{ extensions }] : queries.map((query) => ({ query, extensions }));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function manifestOnly(ids: ReadonlySet<string>): ApolloServerPlugin<BaseContext> {
  const refusal = () =>
    new GraphQLError('This server runs only the operations of its trusted-documents manifest; send the id of one of them', {
      extensions: { code: NOT_IN_MANIFEST, http: { status: 400 } },
    });
  // One listener object for every request: nothing is allocated per request.
  const listener = {
    // Apollo answers an error thrown here (not earlier) as the client's: HTTP 400 with the code.
    // Over HTTP `admit` has refused such a document already; this catches any other way in.
    async didResolveOperation({ queryHash }: { queryHash: string }) {
      if (!ids.has(queryHash)) throw refusal();
    },
  };
  return { requestDidStart: async () => listener };
}
