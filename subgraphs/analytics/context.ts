import type { SubgraphContext } from '@popug/lib/subgraph/context';

/** What analytics' resolvers need beyond the common context. */
export interface AnalyticsServices {
  /** BUSINESS_TZ: which calendar day "today" is. */
  businessTimeZone: string;
}

export type AnalyticsContext = SubgraphContext<AnalyticsServices>;
