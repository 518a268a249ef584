import { generateKeyPairSync, randomUUID } from 'node:crypto';
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
  const verifier = new IdentityVerifier(gateway.publicKey);
  const statement = await signIdentity(caller, gateway.privateKey, 1);
  expect(await verifier.verify(statement)).toEqual(caller);
  expect(await verifier.verify(statement)).toEqual(caller);
  await new Promise((resolve) => setTimeout(resolve, 2100));
  expect(await codeOf(verifier.verify(statement))).toBe('UNAUTHENTICATED');
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

it('stays bounded: past its size it forgets, and still verifies', async () => {
  const verifier = new IdentityVerifier(gateway.publicKey, 2);
  for (const revision of [1, 2, 3, 4]) {
    expect((await verifier.verify(await signIdentity({ ...caller, revision }, gateway.privateKey)))?.revision).toBe(revision);
  }
});
