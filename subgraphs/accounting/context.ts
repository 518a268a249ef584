import type { MailQueue } from '@popug/lib/mail';
import type { SubgraphContext } from '@popug/lib/subgraph/context';

/** What accounting's resolvers need beyond the common context. */
export interface AccountingServices {
  /** Payout mails go here. */
  mailQueue: MailQueue;
  /** BUSINESS_TZ: the zone whose calendar days are the business days. */
  businessTimeZone: string;
}

export type AccountingContext = SubgraphContext<AccountingServices>;
