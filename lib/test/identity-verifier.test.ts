import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { manualClock } from '../clock';
import { IdentityVerifier, signIdentity, type Caller } from '../identity';

/**
 * A subgraph verifies each statement of the gateway once and then answers it from memory:
 * that must say exactly what verifying again would — the caller while the statement lives,
 * UNAUTHENTICATED once it has expired, and nothing for a statement it never verified.
 */
const gateway = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const caller: Caller = { id: randomUUID(), email: 'popug@popug.test', name: 'Popug', role: 'worker', revision: 3 };

const codeOf = (promise: Promise<unknown>) =>
  promise.then(
    () => 'verified',
    (error: { extensions?: { code?: string } }) => error.extensions?.code,
  );

it('answers a statement again, and refuses it once it has expired', async () => {
  const clock = manualClock();
  const verifier = new IdentityVerifier(gateway.publicKey, 10, clock);
  const statement = await signIdentity(caller, gateway.privateKey, 60);
  expect(await verifier.verify(statement)).toEqual(caller);
  clock.advance(30_000);
  expect(await verifier.verify(statement)).toEqual(caller);
  expect(verifier.size).toBe(1);
  // A second past its expiry (whole seconds in the token): from memory or verified again, it is refused.
  clock.advance(31_000);
  expect(await codeOf(verifier.verify(statement))).toBe('UNAUTHENTICATED');
  expect(verifier.size).toBe(0);
});

it('refuses a statement signed by another key or altered, even after verifying a genuine one', async () => {
  const verifier = new IdentityVerifier(gateway.publicKey);
  const genuine = await signIdentity(caller, gateway.privateKey);
  await verifier.verify(genuine);
  const forged = await signIdentity({ ...caller, role: 'admin' }, stranger.privateKey);
  expect(await codeOf(verifier.verify(forged))).toBe('UNAUTHENTICATED');
  const [header, , signature] = genuine.split('.');
  const altered = `${header}.${Buffer.from(JSON.stringify({ sub: caller.id, role: 'admin' })).toString('base64url')}.${signature}`;
  expect(await codeOf(verifier.verify(altered))).toBe('UNAUTHENTICATED');
});

it('stays bounded: past its size it forgets the least recently used statement only, and still verifies', async () => {
  const verifier = new IdentityVerifier(gateway.publicKey, 2);
  for (const revision of [1, 2, 3, 4]) {
    expect((await verifier.verify(await signIdentity({ ...caller, revision }, gateway.privateKey)))?.revision).toBe(revision);
    // Full at two: one more replaces one, it does not empty the cache.
    expect(verifier.size).toBe(Math.min(revision, 2));
  }
});

it('lets expired statements go within a minute, instead of keeping them until the cap pushes them out', async () => {
  const clock = manualClock();
  const verifier = new IdentityVerifier(gateway.publicKey, 100, clock);
  for (const revision of [1, 2, 3, 4, 5]) await verifier.verify(await signIdentity({ ...caller, revision }, gateway.privateKey, 60));
  expect(verifier.size).toBe(5);
  clock.advance(61_000);
  // A statement signed "now" by the moved clock's standard: its own expiry is a minute after the clock.
  const fresh = await signIdentity({ ...caller, revision: 6 }, gateway.privateKey, 3600);
  expect((await verifier.verify(fresh))?.revision).toBe(6);
  expect(verifier.size).toBe(1);
});
