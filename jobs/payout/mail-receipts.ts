import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { payoutOfMailKey } from '../../subgraphs/accounting/services/payout-mail';

export interface MailReceipts {
  /** Records that the mail with this logical key was delivered; other mails are ignored. */
  delivered(key: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * The notifier's receipts for payout mails: `payouts.mail_delivered_at` is set when the
 * mail server took the mail, so a payout whose mail never got there (lost with Redis,
 * say) is found and queued again by the payout worker. Plain `pg`, so the notifier
 * process stays light.
 */
export function createPayoutMailReceipts(env: Env): MailReceipts {
  let pool: Pool | undefined;
  return {
    async delivered(key) {
      const payout = payoutOfMailKey(key);
      if (!payout) return;
      if (!pool) {
        pool = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 });
        // An idle connection the server ended (a restart, a dropped database) leaves the pool;
        // without a listener its 'error' would end the whole jobs process. The next query opens another.
        pool.on('error', () => undefined);
      }
      await pool.query(
        'update payouts set mail_delivered_at = now() where user_id = $1 and business_day = $2::date and mail_delivered_at is null',
        [payout.userId, payout.day],
      );
    },
    async close() {
      await pool?.end();
    },
  };
}
