import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import { logConnectionErrors } from '@popug/lib/connection-errors';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
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
export function createPayoutMailReceipts(env: Env, logger: Logger): MailReceipts {
  let pool: Pool | undefined;
  return {
    async delivered(key) {
      const payout = payoutOfMailKey(key);
      if (!payout) return;
      pool ??= logConnectionErrors(new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 2 }), logger, 'payout mail receipts');
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
