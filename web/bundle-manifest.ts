import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The web dashboards' built files as the gateway finds them, with nothing of the build
 * itself (no esbuild, no sources, no node_modules): what a production image runs.
 *
 * Each build is a folder `web/dist/<hash>/` holding its own manifest (build.json: the hash
 * and every file); `web/dist/current.json` names the build made last (web/build.ts writes
 * both). In production the gateway serves the build current.json names and nothing else.
 */

export const WEB_DIST = join(__dirname, 'dist');
/** The URL path the app's scripts and styles are served under. */
export const ASSET_PREFIX = '/web/';
const BUILD_MANIFEST = 'build.json';
/** Names the build to serve; a file, so it is never taken for a build folder. */
export const CURRENT_BUILD = 'current.json';

export interface BuildManifest {
  hash: string;
  builtAt: string;
  files: string[];
}

export interface PrebuiltWebBuild {
  /** Folder holding index.html and the hashed assets. */
  dir: string;
  hash: string;
}

/** Production without a usable build: the image (or `npm run build`) was not run to the end. */
export class WebBundleMissingError extends Error {
  readonly code = 'WEB_BUNDLE_MISSING';
}

export function writeBuildManifest(dir: string, manifest: BuildManifest): void {
  writeFileSync(join(dir, BUILD_MANIFEST), JSON.stringify(manifest, null, 2));
}

/** A build folder whose manifest exists and lists only files that are there. */
export function isCompleteBuild(dir: string): boolean {
  try {
    const manifest = JSON.parse(readFileSync(join(dir, BUILD_MANIFEST), 'utf8')) as BuildManifest;
    return manifest.files.every((file) => existsSync(join(dir, file)));
  } catch {
    return false;
  }
}

/** Points current.json at `hash` (written aside and renamed, so a reader never sees half of it). */
export function recordCurrentBuild(root: string, hash: string): void {
  const path = join(root, CURRENT_BUILD);
  const text = JSON.stringify({ hash }, null, 2);
  if (existsSync(path) && readFileSync(path, 'utf8') === text) return;
  const staging = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(staging, text);
  renameSync(staging, path);
}

/** The build current.json names, complete; a WebBundleMissingError saying what to run otherwise. */
export function prebuiltWebBuild(root = WEB_DIST): PrebuiltWebBuild {
  const remedy = 'build it before starting in production: `npm run build` (the Docker image builds it in its build stage)';
  let hash: unknown;
  try {
    ({ hash } = JSON.parse(readFileSync(join(root, CURRENT_BUILD), 'utf8')) as { hash?: unknown });
  } catch {
    // Told apart below: no hash is the same failure as no file.
  }
  if (typeof hash !== 'string' || !/^[0-9a-f]+$/.test(hash)) {
    throw new WebBundleMissingError(`The web dashboards are not built (${join(root, CURRENT_BUILD)} missing or unreadable): ${remedy}`);
  }
  const dir = join(root, hash);
  if (!isCompleteBuild(dir)) throw new WebBundleMissingError(`The web dashboards' build ${dir} is incomplete: ${remedy}`);
  return { dir, hash };
}
