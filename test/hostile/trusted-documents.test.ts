import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { samplesOf, scrapeMetrics } from '@popug/testing/metrics';
import type { RunningService } from '@popug/testing/stack';
import { MANIFEST_FILE } from '../../gateway/trusted-documents';
import { startGatewayOver } from '../system';
import { useHostileBed } from './hostile-bed';

/**
 * Production with the trusted-documents manifest enforced reveals nothing of the schema
 * (docs/security.md "Trusted documents"): any document not in the manifest, in any of the
 * forms a client can send it (POST, GET, a batch, an APQ id with or without its text), is
 * refused as PERSISTED_QUERY_NOT_IN_LIST before it is parsed or validated, so no field,
 * argument or type is named. Text sent under a manifest id it does not match is the
 * client's mistake: 400 PERSISTED_QUERY_HASH_MISMATCH, logged at info, never an error line
 * that would page someone. A refused document's name never becomes a metric label.
 *
 * The bed's own gateway runs arbitrary documents (its setup needs them); the attacks go to
 * a second gateway over the same subgraphs with the switch off, as production runs.
 */

const bed = useHostileBed();
const logLines: { level: number; msg: string; err?: unknown; stack?: unknown }[] = [];
const recording = pino({ level: 'info' }, { write: (line: string) => void logLines.push(JSON.parse(line) as (typeof logLines)[number]) });
let enforced: RunningService;

interface Manifest {
  operations: { id: string; name: string; body: string }[];
}
const manifest = JSON.parse(readFileSync(MANIFEST_FILE, 'utf8')) as Manifest;
const operation = (name: string) => {
  const found = manifest.operations.find((candidate) => candidate.name === name);
  if (!found) throw new Error(`${name} is not in the manifest`);
  return found;
};
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const byId = (id: string) => ({ extensions: { persistedQuery: { version: 1, sha256Hash: id } } });

const REFUSED = { status: 400, codes: ['PERSISTED_QUERY_NOT_IN_LIST'] };
/** Words of the schema a refusal must not say: the probed field, argument and type, and validation's wording. */
const SCHEMA_WORDS = /passwordHash|limit|"User"|Cannot query|Unknown argument|Did you mean/i;

interface Answer {
  status: number;
  codes: unknown[];
  text: string;
}

async function answerOf(response: Response): Promise<Answer> {
  const text = await response.text();
  const body = JSON.parse(text) as { errors?: { extensions?: { code?: unknown } }[] };
  return { status: response.status, codes: (body.errors ?? []).map((error) => error.extensions?.code), text };
}

const post = async (body: unknown, token = bed.adminToken) =>
  answerOf(await fetch(`${enforced.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) }));

const get = async (search: Record<string, string>) =>
  answerOf(await fetch(`${enforced.url}/graphql?${new URLSearchParams(search).toString()}`, { headers: { authorization: `Bearer ${bed.adminToken}`, 'apollo-require-preflight': 'true' } }));

/** The enforced gateway still runs a manifest operation by its id. */
async function expectServes(): Promise<void> {
  const answer = await post({ operationName: 'Me', variables: {}, ...byId(operation('Me').id) }, bed.workerToken);
  expect({ status: answer.status, codes: answer.codes }).toEqual({ status: 200, codes: [] });
  expect(answer.text).toContain(bed.worker.id);
}

const expectRefusedUnread = (answer: Answer) => {
  expect({ status: answer.status, codes: answer.codes }).toEqual(REFUSED);
  expect(answer.text).not.toMatch(SCHEMA_WORDS);
};

beforeAll(async () => {
  enforced = await startGatewayOver(bed.system, { ALLOW_ARBITRARY_OPERATIONS: 'false' }, recording);
});
afterAll(async () => {
  await enforced?.close();
});
afterEach(async () => {
  await expectServes();
});

describe('a document not in the manifest, in production', () => {
  it('is refused before validation: a query for users\' password hashes is not told the field does not exist', async () => {
    await bed.expectNothingChanged(async () => {
      expectRefusedUnread(await post({ query: '{ users { id passwordHash } }' }));
      expectRefusedUnread(await post({ query: 'query Me { me { id passwordHash } }', operationName: 'Me' }));
    });
  });

  it('is refused before validation: an unknown argument is not named', async () => {
    await bed.expectNothingChanged(async () => {
      expectRefusedUnread(await post({ query: '{ users(limit: 5) { id } }' }));
      expectRefusedUnread(await post({ query: 'mutation { setUserActive(userId: "x", active: true, limit: 1) { id } }' }));
    });
  });

  it('is refused in a GET as in a POST, unread', async () => {
    await bed.expectNothingChanged(async () => {
      expectRefusedUnread(await get({ query: '{ users { id passwordHash } }' }));
      expectRefusedUnread(await get({ query: '{ users(limit: 5) { id } }', extensions: JSON.stringify({}) }));
      // A manifest text given once and a probe given again: each text must pass.
      const both = new URLSearchParams([['query', operation('Me').body], ['query', '{ users { passwordHash } }']]);
      const twice = await fetch(`${enforced.url}/graphql?${both.toString()}`, { headers: { authorization: `Bearer ${bed.adminToken}`, 'apollo-require-preflight': 'true' } });
      expectRefusedUnread(await answerOf(twice));
    });
  });

  it('is refused in a batch, next to a manifest operation, unread', async () => {
    await bed.expectNothingChanged(async () => {
      expectRefusedUnread(await post([{ query: operation('Me').body }, { query: '{ users { id passwordHash } }' }]));
      expectRefusedUnread(await post([byId(operation('Me').id), byId(sha256('{ users { passwordHash } }'))]));
    });
  });

  it('is refused by an APQ id outside the manifest, alone or with its own text, unread and not remembered', async () => {
    const probe = '{ users { id passwordHash } }';
    await bed.expectNothingChanged(async () => {
      expectRefusedUnread(await post(byId(sha256(probe))));
      expectRefusedUnread(await post({ query: probe, ...byId(sha256(probe)) }));
      expectRefusedUnread(await post(byId(sha256(probe))));
    });
  });
});

describe('text sent with a manifest id that is not its own', () => {
  it('is the client\'s error (400 PERSISTED_QUERY_HASH_MISMATCH), runs nothing, and is logged at info without a stack', async () => {
    const before = logLines.length;
    const hijack = `mutation { setUserRole(userId: "${bed.worker.id}", role: "admin") { id role } }`;
    await bed.expectNothingChanged(async () => {
      for (const attempt of [
        { query: hijack, ...byId(operation('SetUserRole').id) },
        { query: '{ users { id passwordHash } }', ...byId(operation('Users').id) },
      ]) {
        const answer = await post(attempt);
        expect({ status: answer.status, codes: answer.codes }).toEqual({ status: 400, codes: ['PERSISTED_QUERY_HASH_MISMATCH'] });
        expect(answer.text).not.toMatch(SCHEMA_WORDS);
      }
    });
    const written = logLines.slice(before);
    expect(written.filter((line) => line.level >= 50)).toEqual([]);
    const mismatches = written.filter((line) => line.level === 30 && /not its own/.test(line.msg));
    expect(mismatches).toHaveLength(2);
    expect(JSON.stringify(mismatches)).not.toMatch(/\bat [^"]*\.(js|ts):\d+|stack|passwordHash|setUserRole/);
  });
});

describe('metric labels', () => {
  it('never take the name of a refused document, not even a trusted name', async () => {
    await bed.expectNothingChanged(async () => {
      // Valid documents outside the manifest: before this change they were parsed, named and labelled.
      for (const name of ['Me', 'SetUserRole', 'Snoop', 'Exfiltrate']) {
        expectRefusedUnread(await post({ query: `query ${name} { me { id email } }`, operationName: name }));
      }
    });
    const requests = samplesOf(await scrapeMetrics(enforced.internalUrl), 'popug_graphql_requests_total', { service: 'gateway' });
    const refusedLabels = requests.filter((sample) => sample.labels.outcome === 'PERSISTED_QUERY_NOT_IN_LIST').map((sample) => sample.labels.operation);
    expect([...new Set(refusedLabels)]).toEqual(['anonymous']);
    expect(requests.map((sample) => sample.labels.operation).filter((name) => name === 'Snoop' || name === 'Exfiltrate')).toEqual([]);
  });
});
