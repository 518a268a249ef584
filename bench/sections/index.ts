import type { BenchSection } from '../harness';
import { accountingSection } from './accounting';
import { analyticsSection } from './analytics';
import { gatewaySection } from './gateway';
import { liveSection } from './live';
import { payoutSection } from './payout';
import { replicatorSection } from './replicator';
import { soakSection } from './soak';
import { tracingSection } from './tracing';
import { trackerSection } from './tracker';

/** Every benchmark section, in the order `npm run bench` runs them (the soak only when named). */
export const SECTIONS: BenchSection[] = [replicatorSection, trackerSection, accountingSection, payoutSection, analyticsSection, gatewaySection, liveSection, tracingSection, soakSection];
