import { readFileSync } from 'node:fs';
import { apiSchema } from '@popug/testing/contract';
import { isolateTestFile } from '@popug/testing/isolation';
import { signInAdmin, type TestUser } from '@popug/testing/people';
import { samplesOf, scrapeMetrics } from '@popug/testing/metrics';
import type { RunningService } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { parse } from 'graphql';
import { operationProblems } from '../../scripts/schema-changes';
import { buildManifest, documentId, MANIFEST_FILE, type TrustedDocumentsManifest } from '../../scripts/trusted-documents';
import { startGatewayOver, startSystem } from '../../test/system';
import { SUPERGRAPH_FILE } from '../server';

/**
 * Trusted documents (docs/security.md "Trusted documents"): the gateway resolves operation ids from
 * gateway/trusted-documents.json; with NODE_ENV=production it runs nothing else unless
 * ALLOW_ARBITRARY_OPERATIONS is set; in development anything goes. The test system runs
 * production with the switch on (testing/isolation.ts); this file's other gateways over
 * its subgraphs turn it off, or run development.
 */
const env = isolateTestFile();
const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as TrustedDocumentsManifest;
const me = manifest.operations.find((operation) => operation.name === 'Me');
const ARBITRARY = '{ me { id email } }';
let system: TestSystem;
let admin: TestUser;
const gateways: RunningService[] = [];

/** Another gateway over the test system's subgraphs (and with its keys), with `overrides` in its environment. */
async function gatewayWith(overrides: Record<string, string>): Promise<string> {
  return `${(await runningGatewayWith(overrides)).url}/graphql`;
}

async function runningGatewayWith(overrides: Record<string, string>): Promise<RunningService> {
  const running = await startGatewayOver(system, overrides);
  gateways.push(running);
  return running;
}

interface Answer {
  status: number;
  data?: { me?: { email: string } } | null;
  errors?: { extensions?: { code?: string } }[];
}

async function send(url: string, body: Record<string, unknown>): Promise<Answer> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
    body: JSON.stringify(body),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer, 'status'>) };
}

const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });
const codeOf = (answer: Answer) => answer.errors?.[0]?.extensions?.code;
let production: string;

beforeAll(async () => {
  system = await startSystem(env);
  admin = await signInAdmin(system, env);
  production = await gatewayWith({ ALLOW_ARBITRARY_OPERATIONS: 'false' });
}, 60_000);
afterAll(async () => {
  for (const gateway of gateways) await gateway.close();
  await system?.close();
});

describe('the trusted-documents manifest', () => {
  it('is what the generated web operations make (run `npm run codegen` when this fails), each id the SHA-256 of its body', () => {
    expect(manifest).toEqual(buildManifest());
    expect(manifest.operations.every((operation) => operation.id === documentId(operation.body))).toBe(true);
    expect(me).toBeDefined();
  });

  it('validates against the API schema, every operation', async () => {
    const schema = await apiSchema(SUPERGRAPH_FILE);
    const problems = manifest.operations.flatMap((operation) => operationProblems(schema, parse(operation.body)).map((problem) => `${operation.name}: ${problem}`));
    expect(problems).toEqual([]);
  });
});

describe('in production', () => {
  it('runs an operation sent by its manifest id', async () => {
    expect(await send(production, { operationName: 'Me', variables: {}, ...byId(me?.id ?? '') })).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
  });

  it('runs a manifest operation sent as its exact text', async () => {
    expect(await send(production, { query: me?.body })).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
  });

  it('refuses an unknown id, and an arbitrary document with or without its hash, before parsing it', async () => {
    for (const attempt of [byId(documentId(ARBITRARY)), { query: ARBITRARY }, { query: ARBITRARY, ...byId(documentId(ARBITRARY)) }]) {
      const refused = await send(production, attempt);
      expect({ status: refused.status, code: codeOf(refused), data: refused.data }).toEqual({ status: 400, code: 'PERSISTED_QUERY_NOT_IN_LIST', data: undefined });
    }
    // A refused registration is not remembered: the id stays unknown.
    expect(codeOf(await send(production, byId(documentId(ARBITRARY))))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
  });

  it('labels metrics with manifest operation names only: a refused document is `anonymous`, whatever its name', async () => {
    const gateway = await runningGatewayWith({ ALLOW_ARBITRARY_OPERATIONS: 'false' });
    const url = `${gateway.url}/graphql`;
    for (const name of ['Snoop', 'Exfiltrate', 'MyTasks']) {
      // A name of the manifest on a document that is not its own is refused unread: no name becomes a label.
      expect(codeOf(await send(url, { query: `query ${name} { me { id email } }`, operationName: name }))).toBe('PERSISTED_QUERY_NOT_IN_LIST');
    }
    expect(await send(url, { operationName: 'Me', variables: {}, ...byId(me?.id ?? '') })).toMatchObject({ status: 200 });
    const requests = samplesOf(await scrapeMetrics(gateway.internalUrl), 'popug_graphql_requests_total', { service: 'gateway' });
    const labels = Object.fromEntries(requests.map((sample) => [`${sample.labels.operation} ${sample.labels.outcome}`, sample.value]));
    expect(labels).toEqual({ 'anonymous PERSISTED_QUERY_NOT_IN_LIST': 3, 'Me ok': 1 });
  });

  it('runs an arbitrary document when the admin allows it with ALLOW_ARBITRARY_OPERATIONS=true', async () => {
    expect(system.env).toMatchObject({ NODE_ENV: 'production', ALLOW_ARBITRARY_OPERATIONS: true });
    expect(await send(system.gatewayUrl, { query: ARBITRARY })).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
  });
});

describe('in development', () => {
  it('runs manifest ids and arbitrary documents, and registers an unknown id sent with its text', async () => {
    // Asked for by name: development runs anything even with the admin's switch off.
    const development = await gatewayWith({ NODE_ENV: 'development', ALLOW_ARBITRARY_OPERATIONS: 'false' });
    expect(await send(development, byId(me?.id ?? ''))).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
    expect(await send(development, { query: ARBITRARY })).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
    const text = '{ me { email } }';
    expect(codeOf(await send(development, byId(documentId(text))))).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect(await send(development, { query: text, ...byId(documentId(text)) })).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
    expect(await send(development, byId(documentId(text)))).toMatchObject({ status: 200, data: { me: { email: admin.email } } });
  });
});
