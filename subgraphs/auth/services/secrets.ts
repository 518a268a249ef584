import { createHash, randomBytes } from 'node:crypto';

/**
 * The random secrets auth hands out and keeps only hashed: refresh-token secrets and reset
 * tokens. 256 random bits, base64url; SHA-256 is enough to store them (nothing to guess, so
 * no slow hash), and a stolen copy of the table opens nothing.
 */
export const newSecret = (): string => randomBytes(32).toString('base64url');
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');
/** What newSecret makes: anything else is refused before any lookup. */
export const isSecret = (value: string): boolean => /^[A-Za-z0-9_-]{43}$/.test(value);
