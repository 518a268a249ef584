import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Express, Response } from 'express';

export interface LandingPageOptions {
  /** Where the gateway answers GraphQL, e.g. `/graphql`; the playground's fetcher posts there. */
  graphqlPath: string;
  /** Serve GraphiQL at `/playground` and link to it from the landing page. */
  playground: boolean;
}

const PLAYGROUND_LINK = /<!--playground:start-->[\s\S]*?<!--playground:end-->\n?/;
/** The dashboards' palette (web/src/palette.css): the landing page looks like the app it leads to. */
const PALETTE = join(__dirname, '..', '..', 'web', 'src', 'palette.css');
const ASSET_MAX_AGE_MS = 24 * 60 * 60 * 1000;

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
  const assets = playgroundAssets();
  app.get('/playground', (_req, res) => sendHtml(res, playground));
  app.get('/playground/assets/:file', (req, res, next) => {
    const path = assets.get(req.params.file);
    if (!path) {
      next();
      return;
    }
    res.sendFile(path, { maxAge: ASSET_MAX_AGE_MS }, (error) => {
      if (error) next(error);
    });
  });
}

function sendHtml(res: Response, html: string): void {
  res.set('Cache-Control', 'no-cache').type('html').send(html);
}

/**
 * GraphiQL and React ship browser (UMD) builds in their npm packages; the playground
 * serves those files itself, so it works on a machine with no internet access.
 * Resolved once and checked, so a missing package fails the gateway at start.
 */
function playgroundAssets(): ReadonlyMap<string, string> {
  const assets = new Map([
    ['react.production.min.js', packageFile('react', 'umd/react.production.min.js')],
    ['react-dom.production.min.js', packageFile('react-dom', 'umd/react-dom.production.min.js')],
    ['graphiql.min.js', packageFile('graphiql', 'graphiql.min.js')],
    ['graphiql.min.css', packageFile('graphiql', 'graphiql.min.css')],
    ['playground.js', join(__dirname, 'playground.js')],
  ]);
  for (const path of assets.values()) {
    if (!existsSync(path)) throw new Error(`Playground asset missing: ${path}`);
  }
  return assets;
}

function packageFile(name: string, file: string): string {
  return join(dirname(require.resolve(`${name}/package.json`)), file);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
