import { createPrivateKey, createPublicKey } from 'node:crypto';

/**
 * The secrets each process uses, and no other: production asks each for exactly these
 * (lib/env.ts `parseEnv`), and deploy/k8s and docker-compose.yml give each only these.
 * Read from the code, not assumed: the gateway asks auth's `/identity` who a token's user
 * is, so it never verifies a user token itself and holds no key of auth's.
 */
export type SecretName = 'AUTH_PRIVATE_KEY' | 'GATEWAY_PRIVATE_KEY' | 'GATEWAY_PUBLIC_KEY' | 'ADMIN_PASSWORD';

export const SECRETS_BY_SERVICE = {
  /** Signs the caller statements it forwards (gateway/identity-signer.ts). */
  gateway: ['GATEWAY_PRIVATE_KEY'],
  /** Signs user tokens, checks them on /identity with the public half it derives, and verifies the gateway's statements as every subgraph does. */
  auth: ['AUTH_PRIVATE_KEY', 'GATEWAY_PUBLIC_KEY'],
  /** Verify the gateway's statements (lib/subgraph/subgraph-server.ts). */
  tracker: ['GATEWAY_PUBLIC_KEY'],
  accounting: ['GATEWAY_PUBLIC_KEY'],
  analytics: ['GATEWAY_PUBLIC_KEY'],
  /** Mail and replication verify nothing; its queue board asks auth's /identity/authorize. */
  jobs: [],
  migrate: [],
  /** The one-shot step that creates the first admin (scripts/bootstrap-admin.ts). */
  'bootstrap-admin': ['ADMIN_PASSWORD'],
} as const satisfies Record<string, readonly SecretName[]>;

export type ServiceName = keyof typeof SECRETS_BY_SERVICE;

/** The first admin's password as the README documents it: never accepted in production. */
export const DOCUMENTED_ADMIN_PASSWORD = 'popug-admin-password';

const DEVELOPMENT_KEYS_NOTE = 'keys generated under KEYS_DIR are for development only';

/** Why `value` will not do as `secret`, or undefined when it will. */
const problemOf: Record<SecretName, (value: string, service: ServiceName) => string | undefined> = {
  AUTH_PRIVATE_KEY: (pem, service) => privateKeyProblem(pem, `${service} signs user tokens with auth's Ed25519 private key`),
  GATEWAY_PRIVATE_KEY: (pem, service) => privateKeyProblem(pem, `${service} signs the caller statements it forwards with the gateway's Ed25519 private key`),
  GATEWAY_PUBLIC_KEY: (pem, service) => publicKeyProblem(pem, `${service} verifies the gateway's statements with the gateway key's public half`),
  ADMIN_PASSWORD: (password) => (password === DOCUMENTED_ADMIN_PASSWORD ? 'the documented default is refused in production: set a password of your own' : undefined),
};

/**
 * One line per secret `service` uses that production cannot start with: missing, or not
 * what it must be. Nothing about secrets the service does not use.
 */
export function secretProblems(source: NodeJS.ProcessEnv, service: ServiceName): string[] {
  return SECRETS_BY_SERVICE[service].flatMap((secret: SecretName) => {
    const value = source[secret]?.trim();
    const problem = value ? problemOf[secret](value, service) : `${service} needs it and it is not set${secret === 'ADMIN_PASSWORD' ? '' : ` (${DEVELOPMENT_KEYS_NOTE})`}`;
    return problem ? [`${secret}: ${problem}`] : [];
  });
}

function privateKeyProblem(pem: string, use: string): string | undefined {
  try {
    return createPrivateKey(pem).asymmetricKeyType === 'ed25519' ? undefined : `${use}; this is not an Ed25519 key`;
  } catch {
    return `${use}; this is not a PKCS#8 PEM private key`;
  }
}

function publicKeyProblem(pem: string, use: string): string | undefined {
  // createPublicKey would derive one from a private key: a service that only verifies must not hold the signing half.
  if (/PRIVATE KEY/.test(pem)) return `${use}; this is a private key: give only the public half (SPKI PEM)`;
  try {
    return createPublicKey(pem).asymmetricKeyType === 'ed25519' ? undefined : `${use}; this is not an Ed25519 key`;
  } catch {
    return `${use}; this is not an SPKI PEM public key`;
  }
}
