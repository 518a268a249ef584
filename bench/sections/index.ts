import type { BenchSection } from '../harness';

/** Every benchmark section, in the order `npm run bench` runs them. */
export const SECTIONS: BenchSection[] = [];
