import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '@popug/testing/browser';
import { isolateTestFile } from '@popug/testing/isolation';
import { waitFor } from '@popug/testing/wait';
import { addresses, startSmtpListener, type SmtpListener } from '@popug/testing/smtp';
import { codesOf, testLogger } from '@popug/testing/stack';
import type { TestSystem } from '@popug/testing/system';
import { startNotifier, type Notifier } from '../../jobs/notifier/worker';
import { startReplicator, type ReplicatorWorker } from '../../jobs/replicator/worker';
import { startSystem } from '../../test/system';
import { LogoutEverywhereDocument, MeDocument, RegisterDocument, type TypedDocumentString } from '../src/generated/graphql';
import { signInThroughPage } from './sign-in';

/**
 * Sessions in the web app, in Chromium against the whole system (real PostgreSQL, Redis,
 * the notifier and an SMTP listener on loopback): the access token only in memory, the
 * refresh token only in the HttpOnly cookie, sign-out that ends the session, a password
 * change, the reset flow from the mail, a session ending while the user types, and two
 * tabs renewing one session together. One browser and one system for the file; each test
 * its own user and its own browser context (its own cookie jar).
 */

const PASSWORD = 'correct horse battery';
/**
 * The web app's public address, for the link in the reset mail. The gateway's port is chosen
 * when it starts, after auth has read its settings: the browser reaches this name through a
 * redirect to the gateway, as a load balancer would send it (the fragment, with the token, follows).
 */
const PUBLIC_URL = 'http://popug-jira.test';
const NEW_PASSWORD = 'staple battery horse';
const RUN = randomBytes(3).toString('hex');
const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'web');

let smtp: SmtpListener;
let system: TestSystem;
let notifier: Notifier | undefined;
let replicator: ReplicatorWorker | undefined;
let browser: Browser | undefined;
let origin: string;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

let counter = 0;
interface Popug {
  email: string;
  name: string;
}

/** A new worker with PASSWORD, registered through the API. */
async function registered(label: string): Promise<Popug> {
  counter += 1;
  const popug = { name: `${label} ${RUN}`, email: `${label.toLowerCase()}-${counter}-${RUN}@popug.test` };
  await call(RegisterDocument, { ...popug, password: PASSWORD });
  return popug;
}

async function call<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables, token?: string) {
  return system.request<TResult>(document.toString(), (variables ?? {}) as Record<string, unknown>, token);
}

async function newContext(): Promise<BrowserContext> {
  if (!browser) throw new Error('browser not started');
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  contexts.push(context);
  return context;
}

async function newPage(context?: BrowserContext): Promise<Page> {
  const page = await (context ?? (await newContext())).newPage();
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.setDefaultTimeout(10_000);
  return page;
}

/** Every bearer token the page sends, in order. */
function bearerTokens(page: Page): string[] {
  const tokens: string[] = [];
  page.on('request', (request) => {
    const token = /^Bearer (.+)$/.exec(request.headers().authorization ?? '')?.[1];
    if (token && tokens.at(-1) !== token) tokens.push(token);
  });
  return tokens;
}

const signIn = (page: Page, email: string, password = PASSWORD) => signInThroughPage(page, origin, email, password);

async function meCode(token: string): Promise<string | undefined> {
  const result = await call(MeDocument, {}, token);
  return result.errors ? codesOf(result)[0] : 'OK';
}

/** The refresh cookie, scoped to /session: invisible to any other path. */
async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

const refreshCookie = async (context: BrowserContext) =>
  (await context.cookies(`${origin}/session/refresh`)).find((cookie) => cookie.name === 'popug_refresh');

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  smtp = await startSmtpListener();
  // The replicator brings new popugs to the tracker, who may then receive the typed task.
  const env = isolateTestFile({ SMTP_URL: smtp.url, PUBLIC_URL, REPLICATION_INTERVAL_MS: '200', IDENTITY_CACHE_MS: '0', PERMISSION_CACHE_MS: '0' });
  const [started, launched] = await Promise.all([startSystem(env), launchChromium()]);
  system = started;
  browser = launched;
  origin = system.services.gateway.url;
  notifier = startNotifier(env, testLogger('notifier'));
  replicator = await startReplicator(system.env, testLogger('replicator'));
}, 60_000);

afterAll(async () => {
  for (const context of contexts) await context.close().catch(() => undefined);
  await browser?.close();
  await replicator?.close();
  await notifier?.close();
  await system?.close();
  await smtp?.close();
});

describe('sessions in the web app, in Chromium', () => {
  it('keeps the access token in memory and the refresh token in an HttpOnly cookie; a reload resumes the session', async () => {
    const popug = await registered('Keeper');
    const context = await newContext();
    const page = await newPage(context);
    const tokens = bearerTokens(page);
    await signIn(page, popug.email);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();

    const stored = await page.evaluate(() => JSON.stringify({ local: { ...localStorage }, session: { ...sessionStorage }, cookie: document.cookie }));
    expect(tokens.length).toBeGreaterThan(0);
    for (const token of tokens) expect(stored).not.toContain(token);
    expect(stored).not.toContain('popug_refresh');
    expect(await refreshCookie(context)).toMatchObject({ httpOnly: true, secure: true, sameSite: 'Strict', path: '/session' });

    await page.reload();
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/tracker');
    expect(tokens.length).toBeGreaterThan(1); // a new access token from the cookie, not a stored one
  });

  it('renews the access token in the background before it ends', async () => {
    const popug = await registered('Sleeper');
    const page = await newPage();
    const tokens = bearerTokens(page);
    let refreshes = 0;
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/session/refresh') refreshes += 1;
    });
    await page.clock.install();
    await signIn(page, popug.email);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    const [first] = tokens;
    const atSignIn = refreshes; // the login page's own attempt, without a cookie yet

    // 14 minutes on the page's clock: the 15-minute token is renewed before anything is refused.
    await page.clock.fastForward('14:01');
    await waitFor(async () => (refreshes === atSignIn + 1 ? true : undefined), 5_000, 'the background refresh');
    await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: 'Accounting' }).click();
    await page.getByRole('heading', { name: 'Accounting' }).first().waitFor();
    expect(tokens.at(-1)).not.toBe(first);
    expect(await meCode(tokens.at(-1) ?? '')).toBe('OK');
  });

  it('renews once and retries a call whose token the API refused, with no sign-in asked', async () => {
    const popug = await registered('Napper');
    const page = await newPage();
    await signIn(page, popug.email);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();

    // The accounting page's call goes out with a token the API refuses, as after a laptop slept
    // past its end (the tracker's own reads, a live stream's catch-up among them, go as they are).
    let refused = 0;
    await page.route('**/graphql', async (route) => {
      // The Accounting page's own query: a tracker reload racing the click (its live stream
      // catching up) would take the refused token and be cancelled by the navigation.
      if (refused > 0 || !route.request().postData()?.includes('"operationName":"MyAccount"')) return route.continue();
      refused += 1;
      return route.continue({ headers: { ...route.request().headers(), authorization: 'Bearer expired.while.asleep' } });
    });
    const refresh = page.waitForResponse((response) => new URL(response.url()).pathname === '/session/refresh');
    await page.getByRole('navigation', { name: 'Dashboards' }).getByRole('link', { name: 'Accounting' }).click();
    expect((await refresh).status()).toBe(200);
    await page.getByRole('region', { name: 'My account' }).getByText('Balance').waitFor();
    expect(refused).toBe(1);
    expect(await page.getByRole('dialog').count()).toBe(0);
  });

  it('brings a visitor sent to the sign-in page back to the page they asked for', async () => {
    const popug = await registered('Visitor');
    const page = await newPage();
    await page.goto(`${origin}/accounting`);
    await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/accounting');
    await page.getByLabel('Email').fill(popug.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/accounting');
  });

  it('signs out: the session ends, a protected page asks to sign in, and the old token is refused', async () => {
    const popug = await registered('Leaver');
    const context = await newContext();
    const page = await newPage(context);
    const tokens = bearerTokens(page);
    await signIn(page, popug.email);
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();
    const token = tokens.at(-1) ?? '';
    expect(await meCode(token)).toBe('OK');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    expect(await refreshCookie(context)).toBeUndefined();
    expect(await meCode(token)).toBe('UNAUTHENTICATED');

    await page.goto(`${origin}/tracker`);
    await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('next') === '/tracker');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  });

  it('signs out everywhere: every session of the user ends, on this browser and on others', async () => {
    const popug = await registered('Everywhere');
    const elsewhere = await system.login(popug.email, PASSWORD);
    const [here, other] = [await newPage(), await newPage()];
    await signIn(here, popug.email);
    await signIn(other, popug.email);
    await here.getByRole('link', { name: 'Password' }).click();
    await here.getByRole('button', { name: 'Sign out everywhere' }).click();
    await here.waitForURL((url) => url.pathname === '/login');

    expect(await meCode(elsewhere)).toBe('UNAUTHENTICATED');
    // The other browser was signed in there: its page stays, and asks its user back over it.
    await other.reload();
    await other.getByRole('dialog', { name: 'Your session has ended' }).waitFor();
    expect(new URL(other.url()).pathname).toBe('/tracker');
  });

  it('changes the password: errors by field, the other sessions end, this one stays, the new password signs in', async () => {
    const popug = await registered('Changer');
    const elsewhere = await system.login(popug.email, PASSWORD);
    const page = await newPage();
    await signIn(page, popug.email);
    await page.getByRole('link', { name: 'Password' }).click();
    await page.waitForURL((url) => url.pathname === '/password');

    const current = page.getByLabel('Current password');
    const fresh = page.getByLabel('New password', { exact: true });
    const confirmation = page.getByLabel('Confirm new password');
    const change = page.getByRole('button', { name: 'Change password' });

    await current.fill('not my password');
    await fresh.fill(NEW_PASSWORD);
    await confirmation.fill(`${NEW_PASSWORD}!`);
    await change.click();
    await page.getByText('The two passwords differ.').waitFor();

    await confirmation.fill(NEW_PASSWORD);
    await change.click();
    // auth names the field (extensions.field = currentPassword): the message sits under it.
    await page.locator('input[name="current-password"][aria-invalid="true"]').waitFor();
    await screenshot(page, 'password-errors');
    expect(await fresh.getAttribute('aria-invalid')).toBe('false');

    await current.fill(PASSWORD);
    await change.click();
    await page.getByText('Password changed.').waitFor();
    expect(await meCode(elsewhere)).toBe('UNAUTHENTICATED');

    // This session goes on.
    await page.getByRole('link', { name: 'Tracker' }).click();
    await page.getByRole('heading', { name: 'My tasks' }).waitFor();

    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.waitForURL((url) => url.pathname === '/login');
    await page.getByLabel('Email').fill(popug.email);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').getByText(/email or password/i).waitFor();
    await page.getByLabel('Password').fill(NEW_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.pathname === '/tracker');
  });

  it('resets a forgotten password with the link from the mail, once', async () => {
    const popug = await registered('Forgetter');
    const elsewhere = await system.login(popug.email, PASSWORD);
    const page = await newPage();
    await page.goto(`${origin}/login`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.waitForURL((url) => url.pathname === '/forgot-password');

    // An unknown email reads exactly the same: the page tells nobody who has an account.
    await page.getByLabel('Email').fill(`nobody-${RUN}@popug.test`);
    await page.getByRole('button', { name: 'Mail me a link' }).click();
    await page.getByText(`If there is an account for nobody-${RUN}@popug.test, we have mailed it a link`).waitFor();

    await page.goto(`${origin}/forgot-password`);
    await page.getByLabel('Email').fill(popug.email);
    await page.getByRole('button', { name: 'Mail me a link' }).click();
    await page.getByText(`If there is an account for ${popug.email}, we have mailed it a link`).waitFor();
    await screenshot(page, 'forgot-password-sent');

    const [mail] = await smtp.waitForMails((candidate) => addresses(candidate.to).includes(popug.email), 1, 20_000);
    const link = /\S+\/reset-password#token=\S+/.exec(mail?.text ?? '')?.[0];
    if (!mail || !link?.startsWith(`${PUBLIC_URL}/reset-password#token=`)) throw new Error(`no reset link in the mail: ${mail?.text ?? ''}`);

    // Click the link in the mail as a mail client shows it (its text, links made clickable).
    const mailContext = await newContext();
    await mailContext.route(`${PUBLIC_URL}/**`, (route) =>
      route.fulfill({ status: 302, headers: { location: `${origin}${new URL(route.request().url()).pathname}` } }),
    );
    const mailView = await newPage(mailContext);
    await mailView.setContent(mail.html || mail.textAsHtml || '');
    await mailView.locator('a[href*="/reset-password#token="]').click();
    await mailView.waitForURL((url) => url.origin === origin && url.pathname === '/reset-password');
    await mailView.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    expect(new URL(mailView.url()).hash).toBe(''); // the token leaves the address bar and the history

    await mailView.getByLabel('New password', { exact: true }).fill(NEW_PASSWORD);
    await mailView.getByLabel('Confirm new password').fill(NEW_PASSWORD);
    await screenshot(mailView, 'reset-password');
    await mailView.getByRole('button', { name: 'Set new password' }).click();
    await mailView.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('reset') === 'done');
    await mailView.getByText('Your password is changed').waitFor();
    expect(await meCode(elsewhere)).toBe('UNAUTHENTICATED');

    await mailView.getByLabel('Email').fill(popug.email);
    await mailView.getByLabel('Password').fill(NEW_PASSWORD);
    await mailView.getByRole('button', { name: 'Sign in' }).click();
    await mailView.waitForURL((url) => url.pathname === '/tracker');

    // The link works once.
    const again = await newPage();
    await again.goto(`${origin}${link.slice(PUBLIC_URL.length)}`);
    await again.getByLabel('New password', { exact: true }).fill('another good password');
    await again.getByLabel('Confirm new password').fill('another good password');
    await again.getByRole('button', { name: 'Set new password' }).click();
    await again.getByText('This link does not work (any more)').waitFor();
  });

  it('keeps a half-typed task when the session ends meanwhile, and creates it once the user signs in again', async () => {
    const popug = await registered('Typist');
    const page = await newPage();
    // The call is what finds the session ended here: a live stream would find it first and
    // bring the dialog before the click (web/test/live-sessions.test.ts), so this page has none.
    await page.route('**/graphql', (route) => (route.request().headers().accept === 'text/event-stream' ? route.abort() : route.continue()));
    await signIn(page, popug.email);
    await page.getByRole('button', { name: 'Create task' }).click();
    const form = page.getByRole('dialog', { name: 'Create task' });
    const title = `Water the ferns ${RUN}`;
    await form.getByLabel('Title').fill(title);
    await form.getByLabel('Description').fill('Only the big ones, twice.');

    // Signed out everywhere from another device while the user types.
    const elsewhere = await system.login(popug.email, PASSWORD);
    expect(codesOf(await call(LogoutEverywhereDocument, {}, elsewhere))).toEqual([]);

    await form.getByRole('button', { name: 'Create task' }).click();
    const dialog = page.getByRole('dialog', { name: 'Your session has ended' });
    await dialog.waitFor();
    expect(await form.getByLabel('Title').inputValue()).toBe(title);
    expect(await dialog.getByLabel('Email').inputValue()).toBe(popug.email);
    await screenshot(page, 'session-ended-dialog');

    await dialog.getByLabel('Password').fill(PASSWORD);
    await dialog.getByRole('button', { name: 'Sign in' }).click();
    await dialog.waitFor({ state: 'detached' });
    await form.getByText(`Created “${title}”`).waitFor();
    expect(await form.getByLabel('Title').inputValue()).toBe('');
  });

  it('lets two tabs renew one session at the same time without ending it, and signs both out together', async () => {
    const popug = await registered('Twin');
    const context = await newContext();
    const [first, second] = [await newPage(context), await newPage(context)];
    await signIn(first, popug.email);
    await second.goto(`${origin}/tracker`);
    await second.getByRole('heading', { name: 'My tasks' }).waitFor();

    // Each load presents the refresh cookie: together, they would replay a rotated one but for the lock.
    for (let round = 0; round < 3; round += 1) {
      await Promise.all([first.reload(), second.reload()]);
      await Promise.all([first, second].map((page) => page.getByRole('heading', { name: 'My tasks' }).waitFor()));
    }
    expect(await refreshCookie(context)).toBeDefined();

    await first.getByRole('button', { name: 'Sign out' }).click();
    await second.waitForURL((url) => url.pathname === '/login');
  });

  it('threw no error in any page', () => {
    expect(pageErrors).toEqual([]);
  });
});
