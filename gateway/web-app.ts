import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express, type Response } from 'express';
import type { Logger } from '@popug/lib';
import { ASSET_PREFIX, ensureWebBuild } from '../web/build';

/** The dashboards' pages: each answers with the single-page app, which routes in the browser. */
export const WEB_APP_ROUTES = ['/tracker', '/accounting', '/analytics', '/admin', '/login', '/register'] as const;

/**
 * Only our own origin: no CDN, no external font, no inline script. The favicon is a data: URL.
 * React sets no inline style attributes here, so styles stay 'self' too.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * Serves the web dashboards (web/) from the gateway. The bundle is (re)built here when
 * missing or stale (web/build.ts, ~0.5 s with esbuild), so a fresh clone needs no build
 * step before `npm start` or `npm test`; an unchanged build is found by its source hash.
 */
export async function mountWebApp(app: Express, logger: Logger): Promise<void> {
  const build = await ensureWebBuild();
  logger.info({ dir: build.dir, built: build.built, ms: build.ms }, build.built ? 'web dashboards built' : 'web dashboards up to date');
  const html = readFileSync(join(build.dir, 'index.html'), 'utf8');

  app.use(
    ASSET_PREFIX,
    express.static(build.dir, {
      index: false,
      fallthrough: false,
      // Scripts and styles carry a content hash in their names: cache them for good.
      setHeaders: (res, path) => {
        if (/\.(js|css|map)$/.test(path)) res.set('Cache-Control', 'public, max-age=31536000, immutable');
        else res.set('Cache-Control', 'no-cache');
      },
    }),
  );
  const paths = WEB_APP_ROUTES.flatMap((route) => [route, `${route}/*rest`]);
  app.get(paths, (_req, res) => sendApp(res, html));
}

function sendApp(res: Response, html: string): void {
  res
    .set({
      'Cache-Control': 'no-cache',
      'Content-Security-Policy': CONTENT_SECURITY_POLICY,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'same-origin',
    })
    .type('html')
    .send(html);
}
