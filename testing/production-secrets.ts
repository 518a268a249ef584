import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** The secrets production takes from the environment (lib/env.ts `unsafeProductionSettings`, lib/keys.ts). */
export const PRODUCTION_SECRET_NAMES = ['ADMIN_PASSWORD', 'AUTH_PRIVATE_KEY', 'AUTH_PUBLIC_KEY', 'GATEWAY_PRIVATE_KEY', 'GATEWAY_PUBLIC_KEY'] as const;

/**
 * NODE_ENV=production with the secrets production demands, fresh: an admin password of
 * its own (never the documented one), both signers' private keys and the gateway key's
 * public half (what a service that only verifies is given) as PEMs in the environment, as
 * an operator gives them: no key is generated under KEYS_DIR.
 */
export function productionSecrets(): Record<string, string> {
  const gateway = generateKeyPairSync('ed25519');
  return {
    NODE_ENV: 'production',
    ADMIN_PASSWORD: `admin-${randomBytes(12).toString('hex')}`,
    AUTH_PRIVATE_KEY: generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GATEWAY_PRIVATE_KEY: gateway.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    GATEWAY_PUBLIC_KEY: gateway.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
