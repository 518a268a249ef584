import type { SubgraphContext } from '@popug/lib/subgraph/context';
import type { SummaryFeed } from './services/summary-updates';

/** What analytics' resolvers need beyond the common context. */
export interface AnalyticsServices {
  /** BUSINESS_TZ: which calendar day "today" is. */
  businessTimeZone: string;
  /** analyticsUpdated's events, from analytics' own change stream. */
  summaryFeed: SummaryFeed;
}

export type AnalyticsContext = SubgraphContext<AnalyticsServices>;
