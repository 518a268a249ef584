import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SUPPORTED_NODE_MAJOR } from '@popug/lib/node-runtime';

/**
 * Issue 26: the image is built in one stage and run from another that holds only what runs.
 * There is no Docker engine here, so the Dockerfile is parsed and its promises checked: the
 * runtime stage runs the Node the project supports, as a non-root user, with a health check,
 * and never installs devDependencies.
 */
const ROOT = join(__dirname, '..');
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  base: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Instructions (continuation lines joined, comments dropped) grouped by the FROM that starts each stage. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
  const stages: Stage[] = [];
  for (const line of lines) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [base = '', as, name] = args.replace(/--platform=\S+\s+/, '').split(/\s+/);
      stages.push({ base, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${upper} before any FROM`);
    stage.instructions.push({ keyword: upper, args });
  }
  return stages;
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
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
    expect(builds.join('\n')).toMatch(/npm run build/);
    expect(builds.join('\n')).toMatch(/npm run web:build/);
  });

  it('copies into the runtime stage the build output and only files that exist in the sources', () => {
    const copies = runtimeOf('COPY').map((copy) => copy.args.split(/\s+/));
    const fromBuild = copies.filter((words) => words[0]?.startsWith('--from='));
    const sources = fromBuild.flatMap((words) => words.slice(1, -1)).map((path) => path.replace(/^\/app\//, ''));
    expect(sources).toEqual(expect.arrayContaining(['dist', 'web/dist']));
    const built = new Set(['dist', 'web/dist']);
    expect(sources.filter((path) => !built.has(path) && !existsSync(join(ROOT, path)))).toEqual([]);
    // The whole source tree is not in the runtime stage.
    expect(copies.filter((words) => words.includes('.') && words[0] === '.')).toEqual([]);
  });

  it('holds every file of the image that docker-compose.yml runs', () => {
    const compose = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const run = [...compose.matchAll(/\/app\/([\w./-]+)/g)].map(([, path]) => path ?? '');
    const copied = runtimeOf('COPY').flatMap((copy) => copy.args.split(/\s+/).slice(1, -1)).map((path) => path.replace(/^\/app\//, ''));
    expect(run.length).toBeGreaterThan(0);
    expect(run.filter((path) => !copied.some((source) => path === source || path.startsWith(`${source}/`)))).toEqual([]);
  });
});
