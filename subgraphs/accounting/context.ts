import type { MailQueue } from '@popug/lib/mail';
import type { SubgraphContext } from '@popug/lib/subgraph/context';
import type { AccountFeed } from './services/account-updates';

/** What accounting's resolvers need beyond the common context. */
export interface AccountingServices {
  /** Payout mails go here. */
  mailQueue: MailQueue;
  /** BUSINESS_TZ: the zone whose calendar days are the business days. */
  businessTimeZone: string;
  /** myAccountUpdated's events, from accounting's own change stream. */
  accountFeed: AccountFeed;
}

export type AccountingContext = SubgraphContext<AccountingServices>;
