import { join } from 'node:path';
import { DIST } from '../scripts/build';

/**
 * A runtime entry point's compiled file, `dist/<entry>.js`: what production and `npm run
 * start:<name>` run. test/global-setup.ts builds dist/ once per run.
 */
export const compiledEntry = (source: string): string => join(DIST, source.replace(/\.ts$/, '.js'));
