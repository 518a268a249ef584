import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { compiledEntry } from '@popug/testing/compiled';

/** The repository root, where child services are started from. */
export const ROOT = resolve(__dirname, '..');

/**
 * The command for one of our services as `npm start` and production run it: the compiled
 * `dist/` file of `entry`, under `node --cpu-prof` writing into `profileDir` when one is
 * given (bench/profile-summary.ts reads the profile).
 */
export function compiledService(entry: string, profileDir?: string): string[] {
  return [process.execPath, ...(profileDir ? ['--cpu-prof', '--cpu-prof-dir', resolve(profileDir)] : []), compiledEntry(entry)];
}

/**
 * A service in its own process, its output (at LOG_LEVEL=warn: warnings and errors) prefixed
 * with its name on our stderr; lines matching `quiet` (Node's own notices, say) are left out.
 */
export function startChild(name: string, [command, ...args]: string[], env: NodeJS.ProcessEnv, cwd = ROOT, quiet?: RegExp): ChildProcess {
  if (!command) throw new Error(`no command for ${name}`);
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    stream?.on('data', (chunk: Buffer) => {
      const lines = chunk
        .toString()
        .split('\n')
        .filter((line) => line.trim() && !quiet?.test(line));
      if (lines.length) process.stderr.write(lines.map((line) => `[${name}] ${line}\n`).join(''));
    });
  }
  return child;
}

/** SIGTERM, then SIGKILL if it has not exited after 10 s. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function waitForHealth(url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not become healthy within ${timeoutMs} ms`);
    await new Promise((resolveWait) => setTimeout(resolveWait, 200));
  }
}
