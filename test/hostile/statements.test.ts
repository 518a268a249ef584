import { sign } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { IDENTITY_HEADER } from '@popug/lib/identity';
import { loadPrivateKey } from '@popug/lib/keys';
import { REQUEST_ID_HEADER } from '@popug/lib/tracing/request-id';
import { postGraphQL } from '@popug/testing/stack';
import { codesOf, useHostileBed } from './hostile-bed';

/**
 * A subgraph that an attacker controls holds every statement the gateway sends it. Each is
 * good at that subgraph, for that request, for half a minute at most: replayed at another
 * subgraph, with another request id, or later, it is refused with 401 before a resolver runs.
 * The statements here are the ones the gateway really sent (read off its HTTP client), with
 * nothing but their timestamps changed and signed again by the gateway's key where a test
 * needs a statement older or longer-lived than the gateway makes.
 */

const bed = useHostileBed();

type Subgraph = 'auth' | 'tracker' | 'accounting' | 'analytics';

interface Sent {
  statement: string;
  requestId: string;
}

/** undici announces every request it makes here; the gateway's subgraph calls among them. */
const REQUEST_CREATED = 'undici:request:create';

/** The statement and request id the gateway sent `subgraph` while `run` ran. */
async function sentTo(subgraph: Subgraph, run: () => Promise<unknown>): Promise<Sent> {
  const origin = new URL(bed.system.services[subgraph].url).origin;
  let sent: Sent | undefined;
  const listener = (message: unknown) => {
    const { request } = message as { request: { origin: unknown; headers: unknown } };
    if (String(request.origin) !== origin || !Array.isArray(request.headers)) return;
    const headers = request.headers as string[];
    const value = (name: string) => {
      const at = headers.findIndex((entry, index) => index % 2 === 0 && entry.toLowerCase() === name);
      return at < 0 ? undefined : headers[at + 1];
    };
    const statement = value(IDENTITY_HEADER);
    const requestId = value(REQUEST_ID_HEADER);
    if (statement && requestId) sent ??= { statement, requestId };
  };
  subscribe(REQUEST_CREATED, listener);
  try {
    await run();
  } finally {
    unsubscribe(REQUEST_CREATED, listener);
  }
  if (!sent) throw new Error(`the gateway sent ${subgraph} no statement`);
  return sent;
}

/** The admin's statement to tracker, as a compromised tracker receives it. */
const adminStatementToTracker = () => sentTo('tracker', () => bed.system.request('{ trackerPermissions { role } }', {}, bed.adminToken));

/** `statement` with its timestamps changed, signed again by the gateway's own key under its own header. */
function redated(statement: string, times: { iat: number; exp: number }): string {
  const [header = '', payload = ''] = statement.split('.');
  const claims = { ...(JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>), ...times };
  const input = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${input}.${sign(null, Buffer.from(input), loadPrivateKey(bed.env, 'gateway')).toString('base64url')}`;
}

const GRANT = {
  tracker: 'mutation { setTrackerPermission(role: "worker", permission: "task:view_all", granted: true) { role } }',
  accounting: 'mutation { setAccountingPermission(role: "worker", permission: "account:view_all", granted: true) { role } }',
} as const;

/** The admin's grant sent straight to `subgraph` with `sent`: refused as unsigned, nothing stored. */
async function expectReplayRefused(subgraph: keyof typeof GRANT, sent: Sent): Promise<void> {
  await bed.expectNothingChanged(async () => {
    const result = await postGraphQL(`${bed.system.services[subgraph].url}/graphql`, GRANT[subgraph], {}, { [IDENTITY_HEADER]: sent.statement, [REQUEST_ID_HEADER]: sent.requestId });
    expect({ status: result.status, codes: codesOf(result), data: result.data ?? null }).toEqual({ status: 401, codes: ['UNAUTHENTICATED'], data: null });
  });
}

const nowSeconds = () => Math.floor(Date.now() / 1000);

const claimsOf = (statement: string) => JSON.parse(Buffer.from(statement.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;

describe('the statements the gateway sends', () => {
  it('are made for the subgraph called and the request, on the one-fetch shortcut and on a plan of several fetches', async () => {
    const shortcut = await adminStatementToTracker();
    expect(claimsOf(shortcut.statement)).toMatchObject({ aud: 'popug-tracker', rid: shortcut.requestId, sub: bed.admin.id });
    const both = () => bed.system.request('{ me { id } myTasks { id } }', {}, bed.workerToken);
    const [toAuth, toTracker] = await Promise.all([sentTo('auth', both), sentTo('tracker', both)]);
    for (const [sent, audience] of [[toAuth, 'popug-auth'], [toTracker, 'popug-tracker']] as const) {
      const claims = claimsOf(sent.statement);
      expect(claims).toMatchObject({ aud: audience, rid: sent.requestId, sub: bed.worker.id });
      expect(Number(claims.exp) - Number(claims.iat)).toBeLessThanOrEqual(30);
    }
  });
});

describe("a gateway statement held by a compromised subgraph", () => {
  it("is refused at accounting when it was made for tracker, even with the request's own id", async () => {
    await expectReplayRefused('accounting', await adminStatementToTracker());
  });

  it('is refused at the subgraph it was made for with another request id', async () => {
    const sent = await adminStatementToTracker();
    await expectReplayRefused('tracker', { ...sent, requestId: `${sent.requestId}-replayed` });
  });

  it('is refused once older than 30 s, though not yet expired', async () => {
    const sent = await adminStatementToTracker();
    const now = nowSeconds();
    await expectReplayRefused('tracker', { ...sent, statement: redated(sent.statement, { iat: now - 40, exp: now + 20 }) });
  });

  it('is refused when it was made to live longer than 30 s', async () => {
    const sent = await adminStatementToTracker();
    const now = nowSeconds();
    await expectReplayRefused('tracker', { ...sent, statement: redated(sent.statement, { iat: now, exp: now + 60 }) });
  });

  it('is refused when dated in the future, where its 30 s would start late', async () => {
    const sent = await adminStatementToTracker();
    const now = nowSeconds();
    await expectReplayRefused('tracker', { ...sent, statement: redated(sent.statement, { iat: now + 3600, exp: now + 3630 }) });
  });
});
