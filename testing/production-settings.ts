import { randomBytes } from 'node:crypto';
import type { Env } from '@popug/lib/env';
import { loadPrivateKey, loadPublicKey } from '@popug/lib/keys';

/**
 * What a service started as in production needs on top of `env` (development settings whose
 * keys it is given): production mode, the signers' keys and the gateway's public key as PEMs, an admin password of the
 * run's own, and arbitrary operations allowed (the clients send documents outside the
 * trusted-documents manifest). The bench's stacks use it (tests run production already: isolation.ts).
 */
export function productionSettings(env: Env): NodeJS.ProcessEnv {
  const pem = (signer: 'auth' | 'gateway') => loadPrivateKey(env, signer).export({ type: 'pkcs8', format: 'pem' }).toString();
  const gatewayPublicKey = loadPublicKey(env, 'gateway').export({ type: 'spki', format: 'pem' }).toString();
  return { NODE_ENV: 'production', AUTH_PRIVATE_KEY: pem('auth'), GATEWAY_PRIVATE_KEY: pem('gateway'), GATEWAY_PUBLIC_KEY: gatewayPublicKey, ADMIN_PASSWORD: randomBytes(18).toString('base64url'), ALLOW_ARBITRARY_OPERATIONS: 'true' };
}
