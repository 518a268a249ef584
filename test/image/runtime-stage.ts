import { cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { copiesOf, type Stage } from './dockerfile';

/**
 * The runtime stage's /app, assembled without Docker: each of its COPY instructions done
 * from this checkout (the build stage's outputs, dist/ and web/dist/, are what `npm run build`
 * made here: test/global-setup.ts runs it), and its `npm ci --omit=dev` done as npm does it,
 * from package-lock.json: every package the lockfile does not mark `dev`, taken from this
 * checkout's node_modules (hard links, so it costs seconds and no network). A package that
 * only devDependencies bring is not there, so loading one fails as it would in the image.
 */
export function assembleRuntimeStage(root: string, stage: Stage): string {
  const app = mkdtempSync(join(tmpdir(), 'popug-runtime-stage-'));
  for (const copy of copiesOf(stage)) {
    for (const source of copy.sources) {
      const into = copy.destination === '' || copy.destination.endsWith('/') ? join(app, copy.destination, basename(source)) : join(app, copy.destination);
      cpSync(join(root, source), into, { recursive: true });
    }
  }
  installProductionDependencies(root, app);
  return app;
}

interface LockedPackage {
  dev?: boolean;
  link?: boolean;
}

function installProductionDependencies(root: string, app: string): void {
  const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockedPackage> };
  const installed = realpathSync(join(root, 'node_modules'));
  for (const [path, locked] of Object.entries(lock.packages)) {
    if (path === '' || locked.dev === true || locked.link === true) continue;
    const from = join(installed, path.slice('node_modules/'.length));
    // An optional package for another platform is in the lockfile but not installed.
    if (!existsSync(from)) continue;
    linkTree(from, join(app, path));
  }
}

/** Hard-links a package's files, leaving out its own node_modules (each nested package is its own lockfile entry). */
function linkTree(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    if (entry.name === 'node_modules') continue;
    const source = join(from, entry.name);
    const target = join(to, entry.name);
    if (entry.isDirectory()) linkTree(source, target);
    else if (entry.isFile()) linkFile(source, target);
    else if (entry.isSymbolicLink() && statSync(source).isFile()) linkFile(realpathSync(source), target);
  }
}

function linkFile(source: string, target: string): void {
  try {
    linkSync(source, target);
  } catch (error) {
    // Another file system (EXDEV) or no hard links allowed: a copy does as well.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
    cpSync(source, target);
  }
}
