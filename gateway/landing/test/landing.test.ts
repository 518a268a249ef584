import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express, { type Express } from 'express';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { graphqlEndpoint } from '@popug/lib/graphql-endpoint';
import { launchChromium } from '@popug/testing/browser';
import { closeServer, listen } from '@popug/lib/http';
import { mountLandingPage } from '../landing-page';
import { testLogger } from '@popug/testing/stack';

/**
 * The landing page and the playground, driven in Debian's Chromium against a real
 * (trivial) Apollo endpoint. The machine has no internet: every request the browser makes
 * must stay on 127.0.0.1, so GraphiQL (and Monaco's workers) has to come from the gateway itself.
 */

const ARTIFACTS = join(__dirname, '..', '..', '..', 'test-artifacts');
const GRAPHQL_PATH = '/graphql';
const TOKEN = 'test-token-42';

/** The shapes of the page objects that the test reads beyond the DOM's own. */
interface ScrollBox {
  scrollWidth: number;
  clientWidth: number;
}

interface Stack {
  apollo: ApolloServer<{ authorization?: string }>;
  server: Server;
  origin: string;
}

async function startGateway(playground: boolean): Promise<Stack> {
  const apollo = new ApolloServer<{ authorization?: string }>({
    typeDefs: 'type Query { hello: String }',
    resolvers: {
      Query: {
        hello: (_parent: unknown, _args: unknown, context: { authorization?: string }) =>
          context.authorization ? `hello, ${context.authorization}` : 'hello, anonymous',
      },
    },
    introspection: true,
    plugins: [ApolloServerPluginLandingPageDisabled()],
  });
  await apollo.start();
  const app: Express = express();
  mountLandingPage(app, { graphqlPath: GRAPHQL_PATH, playground });
  const service = graphqlEndpoint(apollo, {
    path: GRAPHQL_PATH,
    maxBodyBytes: 64 * 1024,
    logger: testLogger('graphql-endpoint'),
    context: async (req) => ({ authorization: req.headers.authorization }),
    otherwise: app,
  });
  const { server, port } = await listen(service, 0, '127.0.0.1');
  return { apollo, server, origin: `http://127.0.0.1:${port}` };
}

async function stopGateway(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await closeServer(stack.server);
  await stack.apollo.stop();
}

describe('landing page and playground', () => {
  let stack: Stack | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  const requested: string[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    stack = await startGateway(true);
    browser = await launchChromium();
    context = await browser.newContext();
    context.on('request', (request) => requested.push(request.url()));
    context.on('page', (page) => page.on('pageerror', (error) => pageErrors.push(error.message)));
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await stopGateway(stack);
  });

  function origin(): string {
    if (!stack) throw new Error('gateway not started');
    return stack.origin;
  }

  async function newPage(width: number, height: number): Promise<Page> {
    if (!context) throw new Error('browser not started');
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    return page;
  }

  it('links to every dashboard and the playground, and fits a 375px screen', async () => {
    const page = await newPage(375, 812);
    const response = await page.goto(`${origin()}/`);
    expect(response?.status()).toBe(200);
    expect(await page.title()).toBe('Popug Jira');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toBe('Popug Jira');

    const links = [
      ['Task tracker', '/tracker'],
      ['Accounting', '/accounting'],
      ['Analytics', '/analytics'],
      ['Admin', '/admin'],
      ['GraphQL playground', '/playground'],
    ] as const;
    for (const [name, href] of links) {
      const link = page.getByRole('link', { name, exact: true });
      expect(await link.getAttribute('href')).toBe(href);
      expect(await link.isVisible()).toBe(true);
    }

    const overflow = await page.locator('html').evaluate((html: ScrollBox) => html.scrollWidth - html.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(ARTIFACTS, 'landing-375.png'), fullPage: true });

    await page.setViewportSize({ width: 1280, height: 800 });
    await page.screenshot({ path: join(ARTIFACTS, 'landing-1280.png'), fullPage: true });
    await page.close();
  });

  it('runs { hello } in GraphiQL with an Authorization header set in the headers editor', async () => {
    const page = await newPage(1280, 800);
    await page.goto(`${origin()}/playground`);
    await page.locator('.graphiql-container').waitFor({ timeout: 15_000 });

    // Type the query into the query editor (Monaco), replacing the welcome text.
    const queryEditor = page.locator('.graphiql-query-editor .monaco-editor');
    await queryEditor.click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText('{ hello }');
    // Monaco draws the text it holds as lines of spans (spaces as no-break spaces).
    const shown = await queryEditor.locator('.view-lines').innerText();
    expect(shown.replace(/\u00a0/g, ' ').trim()).toBe('{ hello }');

    // The headers editor is open by default; put the token in it.
    await page.locator('.graphiql-editor-tool .graphiql-editor:not(.hidden) .monaco-editor').click();
    await page.keyboard.press('Control+A');
    await page.keyboard.press('Delete');
    await page.keyboard.insertText(`{ "Authorization": "Bearer ${TOKEN}" }`);

    await page.getByRole('button', { name: /execute query/i }).click();
    await page.locator('.graphiql-response', { hasText: `hello, Bearer ${TOKEN}` }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: join(ARTIFACTS, 'playground.png') });
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('made no request that leaves 127.0.0.1', () => {
    const external = requested.filter((url) => {
      const { protocol, hostname } = new URL(url);
      return !(protocol === 'data:' || protocol === 'blob:' || hostname === '127.0.0.1');
    });
    expect(requested.some((url) => url.endsWith('/playground/assets/playground.js'))).toBe(true);
    expect(requested.some((url) => url.endsWith(GRAPHQL_PATH))).toBe(true);
    expect(external).toEqual([]);
  });

  it('serves HTML that loads nothing from another host', async () => {
    for (const path of ['/', '/playground']) {
      const html = await (await fetch(`${origin()}${path}`)).text();
      const loaded = [...html.matchAll(/\b(?:src|href)\s*=\s*["']([^"']+)["']/g)].map((match) => match[1] ?? '');
      expect(loaded.filter((url) => /^(https?:)?\/\//i.test(url))).toEqual([]);
      expect(html).not.toMatch(/@import|fonts\.googleapis|unpkg|jsdelivr|cdnjs/i);
    }
    const css = await (await fetch(`${origin()}/playground/assets/playground.css`)).text();
    expect(css).not.toMatch(/url\(\s*["']?(https?:)?\/\//i);
    expect(css).not.toMatch(/@import/i);
  });
});

describe('landing page without the playground', () => {
  let stack: Stack | undefined;

  beforeAll(async () => {
    stack = await startGateway(false);
  });

  afterAll(async () => {
    await stopGateway(stack);
  });

  it('does not link to or serve the playground', async () => {
    if (!stack) throw new Error('gateway not started');
    const landing = await fetch(`${stack.origin}/`);
    expect(landing.status).toBe(200);
    const html = await landing.text();
    expect(html).toContain('href="/tracker"');
    expect(html).toContain('href="/admin"');
    expect(html).not.toContain('/playground');
    expect((await fetch(`${stack.origin}/playground`)).status).toBe(404);
    expect((await fetch(`${stack.origin}/playground/assets/playground.js`)).status).toBe(404);
  });
});
