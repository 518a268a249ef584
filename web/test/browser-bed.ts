import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Env } from '@popug/lib/env';
import { launchChromium } from '@popug/testing/browser';
import { dataOf, testLogger } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startReplicator, type ReplicatorWorker } from '../../jobs/replicator/worker';
import { startSystem } from '../../test/system';
import type { TypedDocumentString } from '../src/generated/graphql';

export const DESKTOP = { width: 1280, height: 900 };

export interface BrowserBed {
  system(): TestSystem;
  /** The gateway's address, where the web app is served. */
  origin(): string;
  /**
   * A page in a browser context of its own (its own cookie jar), closed after the file;
   * `timezoneId` sets the browser's time zone (an IANA name), by default the machine's.
   */
  newPage(options?: { viewport?: { width: number; height: number }; timezoneId?: string }): Promise<{ page: Page; context: BrowserContext }>;
  /** A contract operation through the gateway (signed in with `token` when given), typed by the web app's generated types; throws on any error. */
  call<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, token?: string): Promise<TResult>;
  /** Errors the pages threw, for an afterEach to find none. */
  pageErrors: string[];
}

/**
 * For a browser test file: the whole system in this process (real PostgreSQL and Redis), the
 * replicator running, one Chromium; started before the file's tests and closed after them.
 */
export function browserBed(env: Env): BrowserBed {
  let system: TestSystem | undefined;
  let browser: Browser | undefined;
  let replicator: ReplicatorWorker | undefined;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];
  const running = () => {
    if (!system) throw new Error('the system runs only while the tests do');
    return system;
  };

  beforeAll(async () => {
    [system, browser] = await Promise.all([startSystem(env), launchChromium()]);
    replicator = await startReplicator(system.env, testLogger('replicator'));
  }, 60_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await replicator?.close();
    await system?.close();
  });

  return {
    system: running,
    origin: () => running().services.gateway.url,
    async newPage({ viewport = DESKTOP, timezoneId } = {}) {
      if (!browser) throw new Error('browser not started');
      const context = await browser.newContext({ viewport, timezoneId });
      contexts.push(context);
      const page = await context.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      page.setDefaultTimeout(10_000);
      return { page, context };
    },
    async call(document, variables, token) {
      return dataOf(await running().request(document.toString(), (variables ?? {}) as Record<string, unknown>, token));
    },
    pageErrors,
  };
}
