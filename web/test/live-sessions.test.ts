import type { Page } from 'playwright-core';
import { isolateTestFile } from '@popug/testing/isolation';
import { hire, type TestUser } from '@popug/testing/people';
import { waitFor } from '@popug/testing/wait';
import { CreateTaskDocument, LogoutEverywhereDocument } from '../src/generated/graphql';
import { browserBed } from './browser-bed';
import { signInThroughPage } from './sign-in';

/**
 * Live streams and the session, in Chromium against the whole system, with access tokens
 * that live 15 s: a stream moves to each renewed token before the old one expires (so the
 * gateway never has to end it), and a session ended elsewhere ends the stream, which brings
 * the sign-in dialog over the page by itself.
 */

const PASSWORD = 'live-sessions-pw';
const TOKEN_TTL_S = 15;
const env = isolateTestFile({ REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0', TOKEN_TTL_SECONDS: String(TOKEN_TTL_S) });
const bed = browserBed(env);
const { call } = bed;

let adminToken: string;
let created = 0;

/** A token's `exp`, in milliseconds. */
const expiryOf = (token: string): number => (JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { exp: number }).exp * 1000;

/** Every bearer token the page's live streams were opened with, and when. */
function streamTokens(page: Page): { token: string; at: number }[] {
  const seen: { token: string; at: number }[] = [];
  page.on('request', (request) => {
    const token = /^Bearer (.+)$/.exec(request.headers().authorization ?? '')?.[1];
    if (token && request.headers().accept === 'text/event-stream') seen.push({ token, at: Date.now() });
  });
  return seen;
}

/** The worker's tracker, live (tokens are short here: the test's own calls sign in afresh). */
async function liveTracker(worker: TestUser): Promise<{ page: Page; tokens: { token: string; at: number }[] }> {
  const { page } = await bed.newPage();
  const tokens = streamTokens(page);
  await signInThroughPage(page, bed.origin(), worker.email, PASSWORD);
  await page.goto(`${bed.origin()}/tracker`);
  await page.locator('[data-live="live"]').waitFor();
  return { page, tokens };
}

/** A new task for the worker (the only popug here who may receive one, once replicated to the tracker). */
async function taskFor(worker: TestUser): Promise<string> {
  created += 1;
  const title = `Session task ${created}`;
  await waitFor(
    async () => {
      const admin = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
      const { createTask } = await call(CreateTaskDocument, { title, description: 'Live.', jiraId: null }, admin);
      return createTask.assignee.id === worker.id ? true : undefined;
    },
    15_000,
    'a task assigned to the worker',
    200,
  );
  return title;
}

beforeAll(async () => {
  adminToken = await bed.system().login(env.ADMIN_EMAIL, env.ADMIN_PASSWORD);
});

afterEach(() => {
  expect(bed.pageErrors).toEqual([]);
});

describe('live streams and the session in Chromium', () => {
  it('moves a stream to each renewed token before the old one expires, and keeps delivering', async () => {
    const worker = await hire(bed.system(), adminToken, PASSWORD, 'worker', 'renewing');
    await taskFor(worker);
    const { page, tokens } = await liveTracker(worker);
    // The stream on screen now (the sign-in page's own, before the reload to /tracker, does not count).
    const first = tokens.at(-1);
    if (!first) throw new Error('no live stream was opened');
    const since = tokens.length;

    // Renewed at about 80 % of the token's life: the stream opens again with the new token at once.
    const renewed = await waitFor(async () => tokens.slice(since).find((seen) => seen.token !== first.token), (TOKEN_TTL_S + 5) * 1000, 'a stream with a renewed token');
    expect(renewed.at).toBeLessThan(expiryOf(first.token));
    await page.locator('[data-live="live"]').waitFor();

    const title = await taskFor(worker);
    await page.getByRole('region', { name: 'My tasks' }).getByRole('heading', { name: title }).waitFor({ timeout: 2_000 });
  }, 60_000);

  it('a session ended elsewhere ends the stream, and the sign-in dialog comes over the page by itself', async () => {
    const worker = await hire(bed.system(), adminToken, PASSWORD, 'worker', 'leaving');
    const { page } = await liveTracker(worker);

    const elsewhere = await bed.system().login(worker.email, PASSWORD);
    await call(LogoutEverywhereDocument, {}, elsewhere);
    // The gateway checks live sessions every few seconds (≤ 4 s); then the refresh is refused.
    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.waitFor({ timeout: 8_000 });

    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'detached' });
    // Back, the page follows changes again.
    await page.locator('[data-live="live"]').waitFor();
    const title = await taskFor(worker);
    await page.getByRole('region', { name: 'My tasks' }).getByRole('heading', { name: title }).waitFor({ timeout: 2_000 });
  });
});
