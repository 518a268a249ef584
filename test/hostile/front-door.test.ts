import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IDENTITY_HEADER, signAnonymousStatement, statementAudience } from '@popug/lib/identity';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import { loadPrivateKey } from '@popug/lib/keys';
import { gatewayHeaders, postGraphQL } from '@popug/testing/stack';
import { PASSWORD, codesOf, useHostileBed } from './hostile-bed';

/**
 * One way in: a subgraph answers only requests that carry the gateway's signed statement,
 * anonymous ones included, and refuses any other with 401 before a resolver runs. So
 * `login` and `register` straight to auth (no throttling, no registration limit) are
 * refused, and the gateway's limits are the only way in.
 */

const bed = useHostileBed();

const SUBGRAPHS = ['auth', 'tracker', 'accounting', 'analytics'] as const;
const url = (name: (typeof SUBGRAPHS)[number]) => `${bed.system.services[name].url}/graphql`;
const LOGIN = 'mutation ($email: String!, $password: String!) { login(email: $email, password: $password) { token } }';
const REGISTER = 'mutation ($email: String!) { register(email: $email, name: "Side Door", password: "correct horse battery") { id } }';

async function expectRefusedDirect(name: (typeof SUBGRAPHS)[number], query: string, variables: Record<string, unknown>, headers: Record<string, string> = {}) {
  const before = await bed.snapshot();
  const result = await postGraphQL(url(name), query, variables, headers);
  expect({ status: result.status, codes: codesOf(result), data: result.data ?? null }).toEqual({ status: 401, codes: ['UNAUTHENTICATED'], data: null });
  expect(await bed.snapshot()).toEqual(before);
}

describe('subgraphs answer only the gateway', () => {
  it('refuses login straight to auth without a statement, even with the right password', async () => {
    await expectRefusedDirect('auth', LOGIN, { email: bed.worker.email, password: PASSWORD });
  });

  it('refuses register straight to auth without a statement, storing nobody and mailing nobody', async () => {
    await expectRefusedDirect('auth', REGISTER, { email: 'side-door@popug.test' });
  });

  it.each(SUBGRAPHS)('refuses an anonymous request to %s without a statement, even for its SDL', async (name) => {
    await expectRefusedDirect(name, '{ _service { sdl } }', {});
  });

  it('refuses an anonymous statement signed by another key', async () => {
    const stranger = generateKeyPairSync('ed25519').privateKey;
    await expectRefusedDirect('auth', LOGIN, { email: bed.worker.email, password: PASSWORD }, { [IDENTITY_HEADER]: signAnonymousStatement(stranger, { audience: statementAudience('auth'), requestId: 'rq-1' }), [REQUEST_ID_HEADER]: 'rq-1' });
  });

  it('refuses an expired anonymous statement', async () => {
    const expired = signAnonymousStatement(loadPrivateKey(bed.env, 'gateway'), { audience: statementAudience('auth'), requestId: 'rq-1', ttlSeconds: -10 });
    await expectRefusedDirect('auth', LOGIN, { email: bed.worker.email, password: PASSWORD }, { [IDENTITY_HEADER]: expired, [REQUEST_ID_HEADER]: 'rq-1' });
  });

  it('refuses a statement header that is not a token at all', async () => {
    await expectRefusedDirect('tracker', '{ myTasks { id } }', {}, { [IDENTITY_HEADER]: 'anonymous' });
  });

  it('answers the gateway\'s anonymous statement as an anonymous caller: still no access to protected fields', async () => {
    const result = await postGraphQL(url('tracker'), '{ myTasks { id } }', {}, gatewayHeaders(bed.env, 'tracker'));
    expect(codesOf(result)).toEqual(['UNAUTHENTICATED']);
    expect(result.status).toBe(200);
  });

  it('still lets login and register through the gateway', async () => {
    const user = await bed.register('front-door');
    expect(await bed.system.login(user.email, PASSWORD)).toEqual(expect.any(String));
  });
});

describe('internal services are not published', () => {
  it('docker-compose publishes only the gateway, on 127.0.0.1 by default, and keeps the rest on an internal network', () => {
    const compose = readFileSync(join(__dirname, '..', '..', 'docker-compose.yml'), 'utf8');
    // Mailpit's UI lives in docker-compose.dev.yml only (test/compose.test.ts checks both files).
    expect([...compose.matchAll(/ports: \[([^\]]*)\]/g)].map((match) => match[1])).toEqual(['"${POPUG_BIND:-127.0.0.1}:4000:4000"']);
    expect(compose).toMatch(/networks:\n {2}internal:\n {4}internal: true/);
  });
});
