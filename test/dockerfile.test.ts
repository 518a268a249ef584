import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { SUPPORTED_NODE_MAJOR } from '@popug/lib/node-runtime';
import { productionSecrets } from '@popug/testing/production-secrets';
import { freePort } from '@popug/testing/ports';
import { waitFor } from '@popug/testing/wait';
import { parseDockerfile } from './image/dockerfile';
import { assembleRuntimeStage } from './image/runtime-stage';

/**
 * Issue 26: the image is built in one stage and run from another that holds only what runs.
 * There is no Docker engine here, so the Dockerfile is parsed and its promises checked: the
 * runtime stage runs the Node the project supports, as a non-root user, with a health check,
 * and never installs devDependencies. Then its /app is put together as the image would have
 * it (test/image/runtime-stage.ts: its COPYs, and the packages `npm ci --omit=dev` installs)
 * and the compiled gateway started from there in production: it loads no build tool and
 * serves the dashboards built at image build time.
 */
const ROOT = join(__dirname, '..');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};

const stages = parseDockerfile(join(ROOT, 'Dockerfile'));
const runtime = stages.at(-1);
const runtimeOf = (keyword: string) => runtime?.instructions.filter((instruction) => instruction.keyword === keyword) ?? [];

describe('the Dockerfile', () => {
  it('builds in one stage and runs from another, both on the supported Node', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const pinned = packageJson.devDependencies.node;
    expect(packageJson.engines.node.startsWith(`>=${pinned} <${SUPPORTED_NODE_MAJOR + 1}`)).toBe(true);
    for (const stage of stages) {
      const [image, tag = ''] = stage.base.split(':');
      expect({ image, version: tag.split('-')[0] }).toEqual({ image: 'node', version: pinned });
      expect(Number(tag.split('.')[0])).toBe(SUPPORTED_NODE_MAJOR);
    }
  });

  it('runs the last stage as a user other than root, with a health check that needs no curl', () => {
    const user = runtimeOf('USER').at(-1)?.args;
    expect(user).toBeDefined();
    expect(['root', '0', '0:0']).not.toContain(user);
    const healthcheck = runtimeOf('HEALTHCHECK').at(-1)?.args ?? '';
    expect(healthcheck).toMatch(/CMD/);
    expect(healthcheck).not.toMatch(/^NONE/i);
    expect(healthcheck).not.toMatch(/curl|wget/);
    expect(healthcheck).toMatch(/\/live/);
  });

  it('installs production dependencies only in the runtime stage, and the build in an earlier one', () => {
    const installs = runtimeOf('RUN').filter((run) => /\bnpm\s+(ci|install|i)\b/.test(run.args));
    expect(installs.length).toBeGreaterThan(0);
    for (const install of installs) expect(install.args).toMatch(/--omit=dev/);
    expect(runtimeOf('RUN').filter((run) => /npm run (build|web:build)|tsx|npx/.test(run.args))).toEqual([]);
    expect(runtimeOf('ENV').some((env) => /NODE_ENV=production/.test(env.args))).toBe(true);
    const builds = stages.slice(0, -1).flatMap((stage) => stage.instructions.filter((instruction) => instruction.keyword === 'RUN').map((run) => run.args));
    // `npm run build` compiles dist/ and bundles the web dashboards (scripts/build.ts).
    expect(builds.join('\n')).toMatch(/npm run build/);
  });

  it('keeps the build tools out of the production dependencies', () => {
    for (const tool of ['tsx', 'esbuild', 'typescript', 'react', 'react-dom', 'graphiql']) {
      expect([tool, tool in packageJson.dependencies]).toEqual([tool, false]);
    }
  });

  it('copies into the runtime stage the build output and only files that exist in the sources', () => {
    const copies = runtimeOf('COPY').map((copy) => copy.args.split(/\s+/));
    const fromBuild = copies.filter((words) => words[0]?.startsWith('--from='));
    const sources = fromBuild.flatMap((words) => words.slice(1, -1)).map((path) => path.replace(/^\/app\//, ''));
    expect(sources).toEqual(expect.arrayContaining(['dist', 'web/dist']));
    const built = new Set(['dist', 'web/dist']);
    expect(sources.filter((path) => !built.has(path) && !existsSync(join(ROOT, path)))).toEqual([]);
    // The whole source tree is not in the runtime stage, nor any TypeScript.
    expect(copies.filter((words) => words.includes('.') && words[0] === '.')).toEqual([]);
    expect(sources.filter((path) => /\.tsx?$|tsconfig|^web\/src$/.test(path))).toEqual([]);
  });

  it('runs docker-compose.dev.yml from the build stage, which holds what development builds with', () => {
    const dev = parse(readFileSync(join(ROOT, 'docker-compose.dev.yml'), 'utf8'), { merge: true }) as { services: Record<string, { build?: { target?: string } }> };
    const buildStage = stages.find((stage) => stage.name === dev.services.gateway?.build?.target);
    expect(buildStage).toBeDefined();
    expect(buildStage).not.toBe(runtime);
    expect(buildStage?.instructions.some((instruction) => instruction.keyword === 'RUN' && /npm run build/.test(instruction.args))).toBe(true);
  });

  it('holds every file of the image that docker-compose.yml runs', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const run = [...compose.matchAll(/\/app\/([\w./-]+)/g)].map(([, path]) => path ?? '');
    const copied = runtimeOf('COPY').flatMap((copy) => copy.args.split(/\s+/).slice(1, -1)).map((path) => path.replace(/^\/app\//, ''));
    expect(run.length).toBeGreaterThan(0);
    expect(run.filter((path) => !copied.some((source) => path === source || path.startsWith(`${source}/`)))).toEqual([]);
  });
});

/** Modules only the build loads (development's on-demand bundles); production never requires them. */
const BUILD_TIME_MODULES: Record<string, string[]> = {
  'dist/web/build.js': ['esbuild'],
  'dist/gateway/landing/playground-bundle.js': ['@graphiql/react/package.json', 'esbuild', 'graphiql/package.json'],
};

/** `require("x")`, `require.resolve("x"` and `import("x")` of packages (not relative paths, not node:) in a compiled file. */
function packageSpecifiers(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found = [...text.matchAll(/\b(?:require(?:\.resolve)?|import)\(\s*["']([^"'.][^"']*)["']/g)].map(([, specifier]) => specifier ?? '');
  return [...new Set(found.filter((specifier) => !specifier.startsWith('node:')))].sort();
}

function compiledFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? compiledFiles(path) : entry.name.endsWith('.js') ? [path] : [];
  });
}

interface GatewayRun {
  origin: string;
  output: () => string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `node dist/gateway/index.js` in `app`, as the image's gateway container runs it, with production's settings only. */
async function startGateway(app: string): Promise<GatewayRun> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, REDIS_URL: process.env.REDIS_URL, QUEUE_PREFIX: process.env.QUEUE_PREFIX, ...productionSecrets(), HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'info', APOLLO_TELEMETRY_DISABLED: '1' };
  const child = spawn(process.execPath, ['dist/gateway/index.js'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    origin: `http://127.0.0.1:${port}`,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

describe('the runtime stage, assembled without Docker', () => {
  let app: string;

  beforeAll(() => {
    if (!runtime) throw new Error('no runtime stage');
    app = assembleRuntimeStage(ROOT, runtime);
  }, 60_000);
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('holds no build tool: not tsx, esbuild, React or GraphiQL', () => {
    // TypeScript stays: npm keeps an optional peer of a production package (valibot's) that is
    // also a devDependency (`devOptional` in the lockfile). Nothing in dist/ requires it (below).
    for (const tool of ['tsx', 'esbuild', 'react', 'react-dom', 'graphiql']) {
      expect([tool, existsSync(join(app, 'node_modules', tool))]).toEqual([tool, false]);
    }
    // The check above proves something: the production packages are there.
    expect(existsSync(join(app, 'node_modules', '@apollo', 'gateway', 'package.json'))).toBe(true);
  });

  it('resolves every package a compiled file loads, but for the build-time modules production never loads', () => {
    const unresolved: Record<string, string[]> = {};
    for (const file of compiledFiles(join(app, 'dist'))) {
      const requireFrom = createRequire(file);
      const missing = packageSpecifiers(file).filter((specifier) => {
        try {
          requireFrom.resolve(specifier);
          return false;
        } catch {
          return true;
        }
      });
      if (missing.length > 0) unresolved[relative(app, file)] = missing;
    }
    expect(unresolved).toEqual(BUILD_TIME_MODULES);
  });

  it('starts the gateway in production and serves the dashboards built at image build time', async () => {
    const gateway = await startGateway(app);
    try {
      await waitFor(async () => {
        if (gateway.output().includes('failed to start')) throw new Error(gateway.output());
        const response = await fetch(`${gateway.origin}/live`, { signal: AbortSignal.timeout(1000) }).catch(() => undefined);
        return response?.ok ? true : undefined;
      }, 30_000, 'the gateway to answer /live');
      const page = await fetch(`${gateway.origin}/tracker`);
      expect(page.status).toBe(200);
      const assets = [...(await page.text()).matchAll(/"(\/web\/app-[^"]+)"/g)].map(([, url]) => url ?? '');
      expect(assets.map((asset) => asset.replace(/^\/web\/app-[A-Z0-9]+/, 'app'))).toEqual(['app.css', 'app.js']);
      for (const asset of assets) expect([asset, (await fetch(`${gateway.origin}${asset}`)).status]).toEqual([asset, 200]);
      expect((await fetch(`${gateway.origin}/`)).status).toBe(200);
      // Production has no playground, so nothing of GraphiQL is needed.
      expect((await fetch(`${gateway.origin}/playground`)).status).toBe(404);
    } finally {
      await gateway.stop();
    }
    expect(gateway.output()).toContain('the prebuilt build');
  }, 60_000);

  it('refuses to start in production without the prebuilt dashboards, saying how to build them', async () => {
    const current = join(app, 'web', 'dist', 'current.json');
    renameSync(current, `${current}.aside`);
    try {
      const gateway = await startGateway(app);
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([gateway.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), 30_000)))]);
      clearTimeout(timer);
      await gateway.stop();
      expect(code).toBe(1);
      expect(gateway.output()).toContain('WEB_BUNDLE_MISSING');
      expect(gateway.output()).toContain('npm run build');
    } finally {
      renameSync(`${current}.aside`, current);
    }
  }, 60_000);
});
