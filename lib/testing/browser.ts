import { chromium, type Browser } from 'playwright-core';

/**
 * The Chromium that the test run's global set-up provided (`provideChromium` in
 * ./chromium.ts, which jest workers cannot load: the package is ESM-only).
 */
function chromiumPath(): string {
  const path = process.env.CHROMIUM_PATH;
  if (!path) throw new Error('No Chromium for the browser tests: run them with jest (test/global-setup.ts provides it) or set CHROMIUM_PATH.');
  return path;
}

/**
 * Headless Chromium as the browser tests drive it. The machine has no internet: the
 * background-networking flags keep Chromium from reaching out on its own, so every request
 * a test sees is one the page made.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
