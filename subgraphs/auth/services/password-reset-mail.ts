import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from '@popug/lib/logger';
import { enqueueMail, type MailQueue } from '@popug/lib/mail';
import { hashSecret, newSecret } from './secrets';
import { findUserByEmail } from './user-directory';
import { parseEmail } from './validation';

/** How long a mailed reset link works. */
export const RESET_TOKEN_LIFE_MINUTES = 30;

export interface PasswordResetSettings {
  /** The web app's address: the link is `<publicUrl>/reset-password#token=…`. */
  publicUrl: string;
  /** Reset mails per account per hour; more requests mail nothing (and answer the same). */
  mailsPerHour: number;
}

/**
 * `requestPasswordReset`: the answer is `true` at once, for every email, before anything is
 * looked up — so it takes the same time whether or not the account exists. The work (find
 * the user, count, store the hashed token, queue the mail) runs after, detached from the
 * request and tracked here so the server's close waits for it. A lost request costs the
 * user one more click, never a wrong answer.
 */
export class PasswordResetMailer {
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    private readonly openEm: () => EntityManager,
    private readonly mailQueue: MailQueue,
    private readonly settings: PasswordResetSettings,
    private readonly logger: Logger,
  ) {}

  request(rawEmail: string): true {
    const work = this.mailLink(rawEmail).catch((error: unknown) => this.logger.error({ err: error }, 'password reset mail not queued'));
    this.inFlight.add(work);
    void work.finally(() => this.inFlight.delete(work));
    return true;
  }

  /** Resolves when every request taken so far has done its work. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.inFlight]);
  }

  private async mailLink(rawEmail: string): Promise<void> {
    let email: string;
    try {
      email = parseEmail(rawEmail);
    } catch {
      return;
    }
    const em = this.openEm();
    const user = await findUserByEmail(em, email);
    if (!user?.active) return;
    const token = newSecret();
    const resetId = randomUUID();
    const stored = await em.transactional(async (tx) => {
      // The user's row is locked so concurrent requests count one after another: the cap holds.
      await tx.execute('select 1 from users where id = ? for update', [user.id]);
      // Spent and expired tokens older than a day are of no use, not even to the hourly count.
      await tx.execute(`delete from password_resets where user_id = ? and expires_at < now() - interval '1 day'`, [user.id]);
      const [recent] = await tx.execute<{ count: string }[]>(
        `select count(*) as count from password_resets where user_id = ? and created_at > now() - interval '1 hour'`,
        [user.id],
      );
      if (Number(recent?.count ?? 0) >= this.settings.mailsPerHour) return false;
      await tx.execute(
        `insert into password_resets (id, user_id, token_hash, expires_at) values (?, ?, ?, now() + make_interval(mins => ?))`,
        [resetId, user.id, hashSecret(token), RESET_TOKEN_LIFE_MINUTES],
      );
      return true;
    });
    if (!stored) {
      // Silent to the asker, so nobody can use the answer to mail-bomb someone or probe accounts.
      this.logger.info({ userId: user.id }, 'password reset mail capped for this hour');
      return;
    }
    const link = `${this.settings.publicUrl.replace(/\/+$/, '')}/reset-password#token=${token}`;
    await enqueueMail(
      this.mailQueue,
      {
        to: user.email,
        subject: 'Reset your Popug Jira password',
        secret: true,
        text: [
          `Hello ${user.name},`,
          '',
          'Someone (we hope you) asked to reset your Popug Jira password. Open this link within',
          `${RESET_TOKEN_LIFE_MINUTES} minutes to choose a new one; it works once:`,
          '',
          link,
          '',
          'Setting a new password signs you out everywhere. If you did not ask, ignore this mail:',
          'your password stays as it is.',
        ].join('\n'),
      },
      `password-reset:${resetId}`,
    );
  }
}
