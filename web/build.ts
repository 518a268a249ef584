import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ASSET_PREFIX, CURRENT_BUILD, isCompleteBuild, recordCurrentBuild, WEB_DIST, writeBuildManifest } from './bundle-manifest';

/**
 * Builds the web dashboards (web/src, React) into static files with esbuild.
 *
 * Every build lands in its own folder named after a hash of its inputs,
 * `web/dist/<hash>/`, moved there in one rename once complete. So `ensureWebBuild` is
 * cheap when nothing changed (hash the sources, find the folder), a fresh clone or an
 * edited source builds at the next gateway start, and gateways or test workers starting
 * together never serve a half-written build: the first rename wins, the others drop theirs.
 * Each call also points `web/dist/current.json` at its build: that is the one production
 * serves (web/bundle-manifest.ts), without esbuild, the sources or React's packages.
 *
 * Build time only: `npm run build` (scripts/build.ts) and, in development and tests, the
 * gateway at start. Everything it imports is a devDependency.
 */

export const WEB_ROOT = __dirname;
const SOURCE_DIR = join(WEB_ROOT, 'src');
const HTML_TEMPLATE = join(WEB_ROOT, 'index.html');
/** Older builds are removed once they are this old (a running gateway may still serve one). */
const STALE_BUILD_MS = 60 * 60 * 1000;

export interface WebBuild {
  /** Folder holding index.html and the hashed assets. */
  dir: string;
  hash: string;
  /** Whether this call built it (false: an existing build was reused). */
  built: boolean;
  /** Milliseconds spent, hashing included. */
  ms: number;
}

/** Returns an up-to-date build, building it first when missing or stale, and records it as current. */
export async function ensureWebBuild(root = WEB_DIST): Promise<WebBuild> {
  const started = Date.now();
  const hash = sourceHash();
  const dir = join(root, hash);
  if (isCompleteBuild(dir)) {
    recordCurrentBuild(root, hash);
    return { dir, hash, built: false, ms: Date.now() - started };
  }
  await buildInto(root, hash);
  recordCurrentBuild(root, hash);
  pruneOldBuilds(root, hash);
  return { dir, hash, built: true, ms: Date.now() - started };
}

/** A hash of everything the bundle is made of: our sources and the React packages' versions. */
export function sourceHash(): string {
  const hash = createHash('sha256');
  const files = [HTML_TEMPLATE, __filename, ...listFiles(SOURCE_DIR)].sort();
  for (const file of files) {
    hash.update(relative(WEB_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  for (const name of ['react', 'react-dom', 'esbuild']) {
    hash.update(`${name}@${packageVersion(name)}\0`);
  }
  return hash.digest('hex').slice(0, 16);
}

async function buildInto(root: string, hash: string): Promise<void> {
  const staging = join(root, `.tmp-${hash}-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  try {
    const files = await bundle(staging);
    writeBuildManifest(staging, { hash, builtAt: new Date().toISOString(), files });
    try {
      renameSync(staging, join(root, hash));
    } catch (error) {
      // Another process finished the same build first: theirs is identical, keep it.
      if (!isCompleteBuild(join(root, hash))) throw error;
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** esbuild: one minified ES module and its stylesheet, named by content hash, plus index.html. */
async function bundle(outdir: string): Promise<string[]> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: [join(SOURCE_DIR, 'main.tsx')],
    outdir,
    bundle: true,
    minify: true,
    sourcemap: 'linked',
    format: 'esm',
    target: ['es2022', 'chrome110', 'firefox115', 'safari16'],
    entryNames: 'app-[hash]',
    assetNames: '[name]-[hash]',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    tsconfig: join(WEB_ROOT, 'tsconfig.json'),
    metafile: true,
    logLevel: 'silent',
    legalComments: 'eof',
  });
  const outputs = Object.entries(result.metafile.outputs);
  const entry = outputs.find(([, output]) => output.entryPoint !== undefined);
  if (!entry) throw new Error('esbuild produced no entry chunk');
  const [script, { cssBundle }] = entry;
  const assetUrl = (path: string) => `${ASSET_PREFIX}${relative(outdir, path)}`;
  const styles = cssBundle ? `<link rel="stylesheet" href="${assetUrl(cssBundle)}">` : '';
  const html = readFileSync(HTML_TEMPLATE, 'utf8')
    .replace('<!--styles-->', styles)
    .replace('<!--script-->', `<script type="module" src="${assetUrl(script)}"></script>`);
  writeFileSync(join(outdir, 'index.html'), html);
  return [...outputs.map(([path]) => relative(outdir, path)), 'index.html'].sort();
}

/** Removes builds other than `keep` (and abandoned staging folders) older than an hour. */
function pruneOldBuilds(root: string, keep: string): void {
  const cutoff = Date.now() - STALE_BUILD_MS;
  for (const name of readdirSync(root)) {
    if (name === keep || name === CURRENT_BUILD) continue;
    const path = join(root, name);
    try {
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
    } catch {
      // Another process removed it first.
    }
  }
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? listFiles(path) : [path];
  });
}

function packageVersion(name: string): string {
  const manifest = JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string };
  return manifest.version;
}

if (require.main === module) {
  ensureWebBuild().then(
    (build) => {
      process.stdout.write(
        `✅ web dashboards ${build.built ? 'built' : 'already up to date'} in ${relative(process.cwd(), build.dir)} (${build.ms} ms)\n`,
      );
    },
    (error: unknown) => {
      process.stderr.write(`❌ web build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
