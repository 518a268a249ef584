import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { Plugin } from 'esbuild';
import { ensureWebBuild, type WebBuild } from '../web/build';

/**
 * `npm run build` (and the first step of `npm start` and every `npm run start:<name>`):
 * every runtime entry point and the local modules it reaches, compiled to CommonJS under
 * dist/ with the same layout as the sources (dist/gateway/index.js for gateway/index.ts).
 * Each file is transpiled on its own (no bundling), so a compiled service loads the same
 * modules, in the same order, as under tsx. Two rewrites make the output run from dist/:
 * `@popug/lib…` becomes a relative path (the layout is mirrored, so the path between two
 * sources is the path between their outputs), and `__dirname` / `__filename` point back at
 * the source folder, where the files read at run time (SDL, supergraph, manifest, pages)
 * stay. Nothing is rebuilt when a hash of the sources matches the last build's.
 * Then the web dashboards' bundle (web/build.ts), which a production gateway only serves:
 * after `npm run build` every service, the gateway included, runs from this checkout in production.
 */

const ROOT = join(__dirname, '..');
export const DIST = join(ROOT, 'dist');
/** What runs in production or through `npm start`; everything they import follows. */
const ENTRY_POINTS = [
  'scripts/start-all.ts',
  'gateway/index.ts',
  'subgraphs/auth/index.ts',
  'subgraphs/tracker/index.ts',
  'subgraphs/accounting/index.ts',
  'subgraphs/analytics/index.ts',
  'jobs/index.ts',
  'jobs/notifier/index.ts',
  'scripts/generate-keys.ts',
  'scripts/compose-secrets.ts',
  'scripts/redis-users.ts',
  'scripts/migrate.ts',
  'scripts/bootstrap-admin.ts',
  'scripts/seed.ts',
  'scripts/replica-rebuild.ts',
];
/** Folders whose sources can reach the output: a change under them is a new hash. */
const HASHED = ['lib', 'gateway', 'subgraphs', 'jobs', 'scripts', 'web/build.ts', 'web/bundle-manifest.ts', 'tsconfig.json', 'package-lock.json'];
const STAMP = 'build.json';
/** `@popug/lib/<path>` is lib/<path>; there is no bare `@popug/lib` (each import names its module). */
const LIB_PREFIX = '@popug/lib/';

export interface BuildResult {
  built: boolean;
  files: number;
  ms: number;
  web: WebBuild;
}

/** Compiles into dist/ unless the last build there came from the same sources; then the web bundle, likewise. */
export async function ensureBuild(): Promise<BuildResult> {
  const started = Date.now();
  const hash = sourceHash();
  const stamp = readStamp();
  const compiled = stamp?.hash === hash ? { built: false, files: stamp.files } : { built: true, files: await compile(hash) };
  const web = await ensureWebBuild();
  return { ...compiled, ms: Date.now() - started, web };
}

/** Built in a staging folder under var/, then moved into place, so no run sees half a build. */
async function compile(hash: string): Promise<number> {
  const staging = join(ROOT, 'var', `build-${randomBytes(4).toString('hex')}`);
  mkdirSync(staging, { recursive: true });
  try {
    const sources = await reachableSources();
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: sources.map((file) => join(ROOT, file)),
      outdir: staging,
      outbase: ROOT,
      // Bundling with every import external is how esbuild lets a plugin rewrite import paths per file.
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      // import() becomes require(): Node's ESM loader finds no `../web/build` without its
      // extension, and a compiled file's local modules are CommonJS like it.
      supported: { 'dynamic-import': false },
      sourcemap: 'linked',
      sourcesContent: false,
      tsconfig: join(ROOT, 'tsconfig.json'),
      plugins: [keepImportsOutside(), pointDirnameAtSources()],
      logLevel: 'warning',
    });
    writeFileSync(join(staging, STAMP), JSON.stringify({ hash, builtAt: new Date().toISOString(), files: sources.length }, null, 2));
    const previous = `${DIST}.old-${randomBytes(4).toString('hex')}`;
    if (existsSync(DIST)) renameSync(DIST, previous);
    renameSync(staging, DIST);
    rmSync(previous, { recursive: true, force: true });
    return sources.length;
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/** The local sources the entry points import, found by esbuild's own resolution (a bundle pass that writes nothing). */
async function reachableSources(): Promise<string[]> {
  const esbuild = await import('esbuild');
  const result = await esbuild.build({
    entryPoints: ENTRY_POINTS.map((file) => join(ROOT, file)),
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'cjs',
    packages: 'external',
    tsconfig: join(ROOT, 'tsconfig.json'),
    outdir: join(ROOT, 'var', 'build-scan'),
    logLevel: 'warning',
  });
  return Object.keys(result.metafile.inputs)
    .filter((file) => /\.tsx?$/.test(file) && !file.startsWith('node_modules/'))
    .sort();
}

/** Every import stays an import; `@popug/lib…` becomes the relative path to the same module. */
function keepImportsOutside(): Plugin {
  return {
    name: 'keep-imports-outside',
    setup(build) {
      build.onResolve({ filter: /.*/ }, (args) => {
        if (args.kind === 'entry-point') return undefined;
        if (args.path.startsWith('@popug/testing')) return { errors: [{ text: `${args.importer} imports test helpers` }] };
        if (args.path === '@popug/lib') return { errors: [{ text: `${args.importer} imports '@popug/lib': name the module (@popug/lib/<path>)` }] };
        if (!args.path.startsWith(LIB_PREFIX)) return { path: args.path, external: true };
        const source = join(ROOT, 'lib', args.path.slice(LIB_PREFIX.length)).replace(/\.ts$/, '');
        let path = relative(dirname(args.importer), source).split(sep).join('/');
        if (!path.startsWith('.')) path = `./${path}`;
        return { path, external: true };
      });
    },
  };
}

/** `__dirname` / `__filename` in a compiled file name its source's folder and file. */
function pointDirnameAtSources(): Plugin {
  return {
    name: 'point-dirname-at-sources',
    setup(build) {
      build.onLoad({ filter: /\.tsx?$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!/\b__(dirname|filename)\b/.test(text)) return undefined;
        const source = relative(ROOT, args.path);
        const back = relative(join(DIST, dirname(source)), ROOT).split(sep).join('/');
        const prologue =
          `const __sourceFile = require('node:path').join(__dirname, ${JSON.stringify(back)}, ${JSON.stringify(source.split(sep).join('/'))});\n` +
          `const __sourceDir = require('node:path').dirname(__sourceFile);\n`;
        const contents = prologue + text.replace(/\b__dirname\b/g, '__sourceDir').replace(/\b__filename\b/g, '__sourceFile');
        return { contents, loader: args.path.endsWith('x') ? 'tsx' : 'ts' };
      });
    },
  };
}

function sourceHash(): string {
  const hash = createHash('sha256');
  const files = HASHED.flatMap((path) => listFiles(join(ROOT, path))).sort();
  for (const file of files) hash.update(relative(ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  hash.update(readFileSync(__filename));
  return hash.digest('hex').slice(0, 16);
}

/** A file, or the sources and JSON under a folder (tests aside: they are never compiled). */
function listFiles(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return [path];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'test') return [];
    const child = join(path, entry.name);
    return entry.isDirectory() ? listFiles(child) : /\.(tsx?|json)$/.test(entry.name) ? [child] : [];
  });
}

function readStamp(): { hash: string; files: number } | undefined {
  try {
    return JSON.parse(readFileSync(join(DIST, STAMP), 'utf8')) as { hash: string; files: number };
  } catch {
    return undefined;
  }
}

if (require.main === module) {
  ensureBuild().then(
    (result) => {
      const what = result.built ? `compiled ${result.files} files into dist/` : `dist/ is up to date (${result.files} files)`;
      const web = `web dashboards ${result.web.built ? 'built' : 'up to date'} in ${relative(ROOT, result.web.dir)}`;
      process.stdout.write(`✅ ${what}; ${web} (${result.ms} ms)\n`);
    },
    (error: unknown) => {
      process.stderr.write(`❌ build failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    },
  );
}
