import argon2 from 'argon2';

/**
 * argon2id with OWASP's minimum for it (19 MiB, 2 passes, 1 lane): memory-hard, and
 * bounded so a flood of logins cannot take all the memory of a small machine.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => argon2.hash(password, OPTIONS);

export const verifyPassword = (hash: string, password: string): Promise<boolean> =>
  argon2.verify(hash, password).catch(() => false);

/** Checked against when the email is unknown, so both failures take the same time. */
let decoy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  decoy ??= hashPassword('no-such-user-decoy-password');
  await verifyPassword(await decoy, password);
}
