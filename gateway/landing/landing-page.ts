import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Express, Response } from 'express';
import { playgroundAssets, playgroundEntries } from './playground-bundle';

export interface LandingPageOptions {
  /** Where the gateway answers GraphQL, e.g. `/graphql`; the playground's fetcher posts there. */
  graphqlPath: string;
  /** Serve GraphiQL at `/playground` and link to it from the landing page. */
  playground: boolean;
}

const PLAYGROUND_LINK = /<!--playground:start-->[\s\S]*?<!--playground:end-->\n?/;
/** The dashboards' palette (web/src/palette.css): the landing page looks like the app it leads to. */
const PALETTE = join(__dirname, '..', '..', 'web', 'src', 'palette.css');
const ASSET_MAX_AGE_S = 24 * 60 * 60;

/**
 * Serves the landing page at `GET /` (with the palette it shares with the dashboards at
 * `GET /palette.css`) and, when `options.playground` is set, GraphiQL at
 * `GET /playground` (with its assets under `/playground/assets/`). The HTML is read
 * once, here, so a missing file fails the gateway at start rather than on a request.
 */
export function mountLandingPage(app: Express, options: LandingPageOptions): void {
  const template = readFileSync(join(__dirname, 'index.html'), 'utf8');
  const landing = options.playground ? template : template.replace(PLAYGROUND_LINK, '');
  app.get('/', (_req, res) => sendHtml(res, landing));
  const palette = readFileSync(PALETTE, 'utf8');
  app.get('/palette.css', (_req, res) => {
    res.set('Cache-Control', 'no-cache').type('css').send(palette);
  });

  if (!options.playground) return;

  const playground = readFileSync(join(__dirname, 'playground.html'), 'utf8').replaceAll(
    '{{GRAPHQL_PATH}}',
    escapeHtml(options.graphqlPath),
  );
  // Resolved now, so a missing package fails the gateway at start; bundled on first use.
  for (const path of Object.values(playgroundEntries())) {
    if (!existsSync(path)) throw new Error(`Playground source missing: ${path}`);
  }
  app.get('/playground', (_req, res) => sendHtml(res, playground));
  app.get('/playground/assets/:file', (req, res, next) => {
    playgroundAssets().then(
      (assets) => {
        const asset = assets.get(req.params.file);
        if (!asset) return next();
        res.set('Cache-Control', `public, max-age=${ASSET_MAX_AGE_S}`).type(asset.type).send(Buffer.from(asset.body));
      },
      (error: unknown) => next(error),
    );
  });
}

function sendHtml(res: Response, html: string): void {
  res.set('Cache-Control', 'no-cache').type('html').send(html);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
