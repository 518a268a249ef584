import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { closeServer, listen } from '@popug/lib/http';
import { testLogger } from '@popug/testing/stack';
import { startGatewayProcess } from '../../test/faults/fixtures/jobs-process';
import { mountWebApp, WEB_APP_ROUTES } from '../../gateway/web-app';
import { ensureWebBuild } from '../build';
import { prebuiltWebBuild } from '../bundle-manifest';

/** The esbuild step and the gateway's serving of the dashboards, without the rest of the system. */

describe('ensureWebBuild', () => {
  let root: string;

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'popug-web-build-'));
  });

  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds once even when several processes ask at the same time, then reuses the build', async () => {
    const builds = await Promise.all([ensureWebBuild(root), ensureWebBuild(root), ensureWebBuild(root)]);
    expect(new Set(builds.map((build) => build.dir)).size).toBe(1);
    const [build] = builds;
    if (!build) throw new Error('no build');
    const manifest = JSON.parse(readFileSync(join(build.dir, 'build.json'), 'utf8')) as { hash: string; files: string[] };
    expect(manifest.hash).toBe(build.hash);
    for (const file of manifest.files) expect(existsSync(join(build.dir, file))).toBe(true);
    expect(manifest.files.some((file) => /^app-[A-Z0-9]+\.js$/.test(file))).toBe(true);
    expect(manifest.files.some((file) => /^app-[A-Z0-9]+\.css$/.test(file))).toBe(true);

    const again = await ensureWebBuild(root);
    expect(again).toMatchObject({ dir: build.dir, built: false });
    // What a production gateway serves: the build current.json names, found without building.
    expect(prebuiltWebBuild(root)).toEqual({ dir: build.dir, hash: build.hash });
  });

  it('names no build in a folder nothing was built in: production refuses it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'popug-web-none-'));
    try {
      expect(() => prebuiltWebBuild(empty)).toThrow(expect.objectContaining({ code: 'WEB_BUNDLE_MISSING' }));
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});

describe('the compiled gateway, as `npm start` runs it', () => {
  // From dist/, development's on-demand build is a dynamic import of a local module: compiled
  // as import(), Node's ESM loader could not find `../web/build` and the gateway did not start.
  it('builds or finds the dashboards on demand outside production', async () => {
    const gateway = await startGatewayProcess(process.env);
    try {
      const page = await fetch(`${gateway.origin}/tracker`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<div id="root">');
    } finally {
      await gateway.stop();
    }
  }, 60_000);
});

describe('the gateway serving the dashboards', () => {
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    const app = express();
    await mountWebApp(app, testLogger('web'), 'on-demand');
    const listening = await listen(app, 0, '127.0.0.1');
    server = listening.server;
    origin = `http://127.0.0.1:${listening.port}`;
  });

  afterAll(() => closeServer(server));

  it.each([...WEB_APP_ROUTES, '/tracker/anything/below'])('answers %s with the app, locked to this origin', async (path) => {
    const response = await fetch(`${origin}${path}`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).toContain('<div id="root">');
    const loaded = [...html.matchAll(/\b(?:src|href)="([^"]+)"/g)].map((match) => match[1] ?? '');
    expect(loaded.filter((url) => /^(https?:)?\/\//i.test(url))).toEqual([]);
    expect(loaded.filter((url) => url.startsWith('/web/app-'))).toHaveLength(2);
  });

  it('sends exactly the page security headers it always sent (helmet with only these turned on)', async () => {
    const response = await fetch(`${origin}/tracker`);
    const policy = (response.headers.get('content-security-policy') ?? '').split(';').map((directive) => directive.trim());
    expect(policy).toEqual([
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self'",
      "base-uri 'none'",
      "form-action 'self'",
      "frame-ancestors 'none'",
    ]);
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('referrer-policy')).toBe('same-origin');
    for (const absent of ['strict-transport-security', 'cross-origin-opener-policy', 'x-frame-options', 'origin-agent-cluster']) {
      expect(response.headers.get(absent)).toBeNull();
    }
  });

  it('serves the hashed script and stylesheet for good, and 404 for anything else under /web/', async () => {
    const html = await (await fetch(`${origin}/tracker`)).text();
    const assets = [...html.matchAll(/"(\/web\/app-[^"]+)"/g)].map((match) => match[1] ?? '');
    // Exactly the script and the stylesheet: an empty list would make the loop below prove nothing.
    expect(assets.map((asset) => asset.replace(/^\/web\/app-[A-Z0-9]+/, 'app'))).toEqual(['app.css', 'app.js']);
    for (const asset of assets) {
      const response = await fetch(`${origin}${asset}`);
      expect(response.status).toBe(200);
      expect(response.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      const body = await response.text();
      expect(body).not.toMatch(/https?:\/\/(fonts\.googleapis|unpkg|cdn)/i);
    }
    expect((await fetch(`${origin}/web/app-NOPE.js`)).status).toBe(404);
  });

  it.each(['/nowhere', '/nowhere/at/all', '/tracker-but-not'])('answers the unknown page %s with status 404 and the app, which says “Page not found”', async (path) => {
    const response = await fetch(`${origin}${path}`);
    expect(response.status).toBe(404);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await response.text();
    expect(html).toContain('<div id="root"><h1>Page not found</h1></div>');
    expect([...html.matchAll(/"(\/web\/app-[^"]+)"/g)]).toHaveLength(2);
  });

  it.each(['/graphql/nowhere', '/session/nowhere', '/web/nowhere', '/ready/nowhere'])('leaves %s, not a page, to the plain 404', async (path) => {
    const response = await fetch(`${origin}${path}`);
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('<div id="root">');
  });
});
