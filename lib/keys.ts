import { generateKeyPairSync, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Env } from './env';

/**
 * Ed25519 keys of the two signers: auth (user tokens) and the gateway (forwarded
 * identities). Production passes each service the PEMs it uses (a verifier only the public
 * key); on a developer machine the first process to start writes a key pair under KEYS_DIR
 * and every other process reads it.
 */
export type Signer = 'auth' | 'gateway';

export interface KeyPair {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

const envNames = {
  auth: { privateKey: 'AUTH_PRIVATE_KEY', publicKey: 'AUTH_PUBLIC_KEY' },
  gateway: { privateKey: 'GATEWAY_PRIVATE_KEY', publicKey: 'GATEWAY_PUBLIC_KEY' },
} as const;

export function loadPrivateKey(env: Env, signer: Signer): KeyObject {
  const pem = env[envNames[signer].privateKey];
  return createPrivateKey(pem ?? ensureDevKeyPair(env, signer).privateKeyPem);
}

export function loadPublicKey(env: Env, signer: Signer): KeyObject {
  const publicPem = env[envNames[signer].publicKey];
  if (publicPem) return createPublicKey(publicPem);
  const privatePem = env[envNames[signer].privateKey];
  if (privatePem) return createPublicKey(createPrivateKey(privatePem));
  return createPublicKey(ensureDevKeyPair(env, signer).publicKeyPem);
}

function ensureDevKeyPair(env: Env, signer: Signer): { privateKeyPem: string; publicKeyPem: string } {
  if (env.NODE_ENV === 'production') {
    // parseEnv asks each service for the keys it uses (lib/service-secrets.ts); a key used outside that list is refused here.
    throw new Error(`${envNames[signer].privateKey} is not set: production never generates or reads development keys`);
  }
  const privatePath = join(env.KEYS_DIR, `${signer}.key.pem`);
  const publicPath = join(env.KEYS_DIR, `${signer}.pub.pem`);
  try {
    return { privateKeyPem: readFileSync(privatePath, 'utf8'), publicKeyPem: readFileSync(publicPath, 'utf8') };
  } catch {
    mkdirSync(env.KEYS_DIR, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ed25519');
    const privateKeyPem = pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const publicKeyPem = pair.publicKey.export({ type: 'spki', format: 'pem' }).toString();
    try {
      // 'wx' fails when another process won the race: then its pair is the one to use.
      writeFileSync(privatePath, privateKeyPem, { flag: 'wx', mode: 0o600 });
      writeFileSync(publicPath, publicKeyPem, { flag: 'w', mode: 0o644 });
      return { privateKeyPem, publicKeyPem };
    } catch {
      return waitForPair(privatePath, publicPath);
    }
  }
}

function waitForPair(privatePath: string, publicPath: string): { privateKeyPem: string; publicKeyPem: string } {
  for (let attempt = 0; attempt < 50; attempt++) {
    try {
      const privateKeyPem = readFileSync(privatePath, 'utf8');
      const publicKeyPem = readFileSync(publicPath, 'utf8');
      if (privateKeyPem && publicKeyPem) return { privateKeyPem, publicKeyPem };
    } catch {
      // the winner is still writing
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  }
  throw new Error(`Key pair at ${privatePath} was never completed`);
}
