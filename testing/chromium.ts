import sparticuzChromium from '@sparticuz/chromium';

/**
 * Where the browser tests find Chromium: `CHROMIUM_PATH` when set (a system Chromium, say),
 * otherwise the headless build that `@sparticuz/chromium` ships inside its npm package,
 * unpacked once into the temp folder. So `npm ci` brings the browser and nothing is
 * downloaded from anywhere else.
 */
export async function provideChromium(): Promise<string> {
  const configured = process.env.CHROMIUM_PATH;
  if (configured) return configured;
  try {
    return await sparticuzChromium.executablePath();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `Browser tests need Chromium: unpacking the one in @sparticuz/chromium failed (${reason}); run npm ci again, or set CHROMIUM_PATH to an installed Chromium (Debian: apt-get install chromium, then CHROMIUM_PATH=/usr/bin/chromium).`,
      { cause: error },
    );
  }
}

