import { loadEnv } from '@popug/lib/env';
import { loadPrivateKey } from '@popug/lib/keys';

/** Writes the signing key pairs into KEYS_DIR once, before the services start (docker compose). */
const env = loadEnv();
loadPrivateKey(env, 'auth');
loadPrivateKey(env, 'gateway');
process.stdout.write(`keys ready in ${env.KEYS_DIR}\n`);
