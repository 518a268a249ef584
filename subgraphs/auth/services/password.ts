import argon2 from 'argon2';
import { WorkLimiter, type WorkLimits } from '@popug/lib/work-limiter';

/**
 * argon2id with OWASP's minimum for it (19 MiB, 2 passes, 1 lane): memory-hard, and
 * bounded so a flood of logins cannot take all the memory of a small machine.
 */
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/**
 * At most a few argon2 runs at once per process (each holds 19 MiB and a libuv thread);
 * the rest wait in a bounded queue, and a flood beyond it gets TOO_MANY_REQUESTS at once.
 * auth's server sets the limits from the environment (ARGON2_*).
 */
const passwordWork = new WorkLimiter({ concurrency: 4, queueLimit: 64, maxWaitMs: 5000 }, 'Password checking');

export function limitPasswordWork(limits: WorkLimits): void {
  passwordWork.configure(limits);
}

export const hashPassword = (password: string): Promise<string> => passwordWork.run(() => argon2.hash(password, OPTIONS));

export const verifyPassword = (hash: string, password: string): Promise<boolean> =>
  passwordWork.run(() => argon2.verify(hash, password).catch(() => false));

/** Checked against when the email is unknown, so both failures take the same time. */
let decoy: Promise<string> | undefined;
export async function burnPasswordCheck(password: string): Promise<void> {
  decoy ??= argon2.hash('no-such-user-decoy-password', OPTIONS);
  await verifyPassword(await decoy, password);
}
