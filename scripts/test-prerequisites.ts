import { assertSupportedNode } from '@popug/lib/node-runtime';
import { provideChromium } from '../testing/chromium';
import { ensureTestServices } from '../testing/services';

/**
 * The first step of `npm test`: PostgreSQL and Redis answer (started here when this
 * machine can), and Chromium is unpacked for the browser tests. A missing piece stops the
 * run at once with one line saying what to install or start.
 */
async function main(): Promise<void> {
  assertSupportedNode();
  await ensureTestServices();
  await provideChromium();
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
