import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import express, { type Express, type Response } from 'express';
import helmet from 'helmet';
import type { Logger } from '@popug/lib/logger';
import { ASSET_PREFIX, prebuiltWebBuild } from '../web/bundle-manifest';

/** The dashboards' pages: each answers with the single-page app, which routes in the browser. */
export const WEB_APP_ROUTES = [
  '/tracker',
  '/accounting',
  '/analytics',
  '/admin',
  '/password',
  '/login',
  '/register',
  '/forgot-password',
  '/reset-password',
] as const;

/**
 * The page's security headers, written by helmet: only our own origin (no CDN, no external
 * font, no inline script; the favicon is a data: URL, and React sets no inline style
 * attributes here, so styles stay 'self' too), no MIME sniffing, referrers kept to our
 * origin. Helmet's other headers stay off: the dashboards answer exactly as before.
 */
const pageHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      fontSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
  xContentTypeOptions: true,
  referrerPolicy: { policy: 'same-origin' },
  crossOriginEmbedderPolicy: false,
  crossOriginOpenerPolicy: false,
  crossOriginResourcePolicy: false,
  originAgentCluster: false,
  strictTransportSecurity: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: false,
  xPermittedCrossDomainPolicies: false,
  xPoweredBy: false,
  xXssProtection: false,
});

/**
 * Where the dashboards come from. `prebuilt` (production): the build web/dist/current.json
 * names, made by `npm run build` or the image's build stage; none is a WebBundleMissingError
 * and the gateway does not start. `on-demand` (development, tests): (re)built here when
 * missing or stale (web/build.ts, ~0.5 s with esbuild), so an edited source shows at the next
 * start; an unchanged build is found by its source hash.
 */
export type WebAppSource = 'prebuilt' | 'on-demand';

/** Serves the web dashboards (web/) from the gateway. */
export async function mountWebApp(app: Express, logger: Logger, source: WebAppSource): Promise<void> {
  const build = source === 'prebuilt' ? findPrebuilt(logger) : await buildOnDemand(logger);
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
  app.get(paths, pageHeaders, (_req, res) => sendApp(res, html));
  // Any other page: the app, which shows its own "Page not found", with the status that says so.
  const notFound = notFoundPage(html);
  app.get('*rest', pageHeaders, (req, res, next) => {
    if (NOT_PAGES.some((prefix) => req.path === prefix || req.path.startsWith(`${prefix}/`))) return next();
    res.status(404);
    sendApp(res, notFound);
  });
}

/** Paths that are not pages: an unknown one there keeps Express's plain 404, not the app. */
const NOT_PAGES = ['/graphql', '/session', '/live', '/ready', '/playground', ASSET_PREFIX.replace(/\/$/, '')];

/** The app's page, saying "Page not found" until the script renders the same (and without JavaScript). */
function notFoundPage(html: string): string {
  const root = /<div id="root">[\s\S]*?<\/div>/;
  if (!root.test(html)) throw new Error('web/index.html has no <div id="root">…</div> to put "Page not found" in');
  return html.replace(root, '<div id="root"><h1>Page not found</h1></div>');
}

function findPrebuilt(logger: Logger): { dir: string } {
  const build = prebuiltWebBuild();
  logger.info({ dir: build.dir }, 'web dashboards: the prebuilt build');
  return build;
}

/** Imported only here, so a production gateway never loads the build (esbuild, React's packages). */
async function buildOnDemand(logger: Logger): Promise<{ dir: string }> {
  const { ensureWebBuild } = await import('../web/build');
  const build = await ensureWebBuild();
  logger.info({ dir: build.dir, built: build.built, ms: build.ms }, build.built ? 'web dashboards built' : 'web dashboards up to date');
  return build;
}

function sendApp(res: Response, html: string): void {
  res.set('Cache-Control', 'no-cache').type('html').send(html);
}
