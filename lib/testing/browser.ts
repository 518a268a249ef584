import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium: tests never download a browser of their own. */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Headless Chromium as the browser tests drive it. The machine has no internet: the
 * background-networking flags keep Chromium from reaching out on its own, so every request
 * a test sees is one the page made.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
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
