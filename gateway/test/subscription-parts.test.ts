import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync } from 'node:crypto';
import type { Caller } from '@popug/lib/identity';
import { createLogger } from '@popug/lib/logger';
import { contractOperation } from '@popug/testing/contract';
import type { IdentityClient } from '../identity-client';
import { SUPERGRAPH_FILE } from '../server';
import { EventQueue } from '../subscriptions/event-queue';
import { FederatedSubscriptions, type Admitted, type FederatedSubscriptionsOptions } from '../subscriptions/federated-subscriptions';
import { SubscriptionPlans } from '../subscriptions/plans';
import { SessionWatch, type SessionEnd } from '../subscriptions/session-watch';

/** The pieces of the gateway's subscriptions that decide alone: the bounded queue, the session watch's verdicts, admission's shared documents. */
const logger = createLogger('subscription-parts');
const { privateKey } = generateKeyPairSync('ed25519');
const caller = (sessionId: string, role = 'worker', revision = 1): Caller => ({ id: '00000000-0000-4000-8000-000000000001', email: 'a@popug.test', name: 'A', role, revision, sessionId });

describe('EventQueue', () => {
  it('hands results in order, then ends with the overflow result once the reader falls `bound` behind', async () => {
    let returned = 0;
    const queue = new EventQueue<number>(3, () => -1, () => (returned += 1));
    queue.push(1);
    expect(await queue.next()).toEqual({ value: 1, done: false });
    for (const value of [2, 3, 4, 5]) queue.push(value);
    const read: number[] = [];
    for await (const value of queue) read.push(value);
    expect(read).toEqual([-1]);
    expect(queue.open).toBe(false);
    expect(returned).toBe(1);
  });

  it('return() (the client went away) drops what is queued and releases once', async () => {
    let returned = 0;
    const queue = new EventQueue<number>(10, () => -1, () => (returned += 1));
    queue.push(1);
    await queue.return();
    await queue.return();
    expect(await queue.next()).toEqual({ value: undefined, done: true });
    expect(returned).toBe(1);
  });
});

describe('SessionWatch', () => {
  /** A stand-in for auth's POST /identity/sessions answering `states`, recording what it was asked. */
  async function authAnswering(states: Record<string, unknown>) {
    const asked: unknown[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        asked.push({ body: JSON.parse(body) as unknown, statement: req.headers['x-popug-identity'] });
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ sessions: states }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/identity/sessions`, asked, close: () => new Promise((resolve) => server.close(resolve)) };
  }

  it('ends the stream of an expired token with SESSION_EXPIRED without asking auth, and asks once for all other sessions', async () => {
    const sessionA = '11111111-1111-4111-8111-111111111111';
    const sessionB = '22222222-2222-4222-8222-222222222222';
    const sessionC = '33333333-3333-4333-8333-333333333333';
    const auth = await authAnswering({
      [sessionA]: { state: 'ended' },
      [sessionB]: { state: 'deactivated' },
      [sessionC]: { state: 'active', caller: caller(sessionC, 'manager', 2) },
    });
    const watch = new SessionWatch(auth.url, privateKey, 4000, logger);
    const ends: Record<string, SessionEnd> = {};
    const changes: Caller[] = [];
    const watchOne = (name: string, sessionId: string, expiresAtMs = Date.now() + 60_000) =>
      watch.add({ caller: caller(sessionId), expiresAtMs, ended: (code) => (ends[name] = code), changed: (next) => changes.push(next) });
    watchOne('expired', '44444444-4444-4444-8444-444444444444', Date.now() - 1);
    watchOne('logged out', sessionA);
    watchOne('deactivated', sessionB);
    watchOne('promoted', sessionC);
    await watch.tick();
    expect(ends).toEqual({ expired: 'SESSION_EXPIRED', 'logged out': 'SESSION_ENDED', deactivated: 'ACCOUNT_DEACTIVATED' });
    expect(changes).toEqual([expect.objectContaining({ role: 'manager', revision: 2 })]);
    expect(auth.asked).toHaveLength(1);
    expect((auth.asked[0] as { body: { sessions: string[] } }).body.sessions.sort()).toEqual([sessionA, sessionB, sessionC]);
    // With the revision each stream holds, in the same order: auth leaves out the sessions that did not move on.
    const { sessions, revisions } = (auth.asked[0] as { body: { sessions: string[]; revisions: number[] } }).body;
    expect(revisions).toEqual(sessions.map(() => caller(sessionA).revision));
    expect(watch.size).toBe(1);
    // The promoted one is current now: the next tick changes nothing.
    await watch.tick();
    expect(changes).toHaveLength(1);
    watch.close();
    await auth.close();
  });

  it('ends nothing when auth does not answer', async () => {
    const watch = new SessionWatch('http://127.0.0.1:9/identity/sessions', privateKey, 1000, logger);
    const ended: string[] = [];
    watch.add({ caller: caller('55555555-5555-4555-8555-555555555555'), expiresAtMs: Date.now() + 60_000, ended: (code) => ended.push(code), changed: () => undefined });
    await watch.tick();
    expect(ended).toEqual([]);
    watch.close();
  });
});

describe('FederatedSubscriptions.admit', () => {
  it('gives every subscriber of one text the same parsed document, and so the same plan', async () => {
    const plans = new SubscriptionPlans(readFileSync(SUPERGRAPH_FILE, 'utf8'), {});
    const identities = { resolve: () => Promise.resolve(caller('00000000-0000-4000-8000-0000000000a1')) } as unknown as IdentityClient;
    // admit reads only these: the rest of the options serve started streams.
    const subscriptions = new FederatedSubscriptions({ plans, identities, validationRules: [], parseOptions: {}, logger } as unknown as FederatedSubscriptionsOptions);
    const query = contractOperation('MyAccountUpdates');
    // The identity stand-in takes any token; admit reads only its exp.
    const token = ['{"alg":"EdDSA"}', `{"exp":${Math.floor(Date.now() / 1000) + 60}}`].map((part) => Buffer.from(part).toString('base64url')).join('.') + '.signature';
    const [first, second] = (await Promise.all([subscriptions.admit({ query }, `Bearer ${token}`), subscriptions.admit({ query }, `Bearer ${token}`)])) as Admitted[];
    expect(first?.document).toBeDefined();
    expect(second?.document).toBe(first?.document);
    expect(plans.plan(second!.document, 'MyAccountUpdates')).toBe(plans.plan(first!.document, 'MyAccountUpdates'));
  });
});
