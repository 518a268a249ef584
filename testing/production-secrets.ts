import { generateKeyPairSync, randomBytes } from 'node:crypto';

/** The variables every production service is refused without (lib/env.ts `unsafeProductionSettings`). */
export const PRODUCTION_SECRET_NAMES = ['ADMIN_PASSWORD', 'AUTH_PRIVATE_KEY', 'AUTH_PUBLIC_KEY', 'GATEWAY_PRIVATE_KEY', 'GATEWAY_PUBLIC_KEY'] as const;

/**
 * NODE_ENV=production with the secrets production demands, fresh: an admin password of
 * its own (never the documented one) and both signers' keys as PEMs in the environment,
 * as an operator gives them (no key is generated under KEYS_DIR).
 */
export function productionSecrets(): Record<string, string> {
  const pem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    NODE_ENV: 'production',
    ADMIN_PASSWORD: `admin-${randomBytes(12).toString('hex')}`,
    AUTH_PRIVATE_KEY: pem(),
    GATEWAY_PRIVATE_KEY: pem(),
  };
}
