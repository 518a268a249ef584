import { spawn } from 'node:child_process';

/**
 * `npm run check`: every static check of `npm test`, each still its own npm script. The type
 * check (TypeScript 7's native tsc, about as long as lint now) needs nothing from the others, so
 * it runs beside the rest, which run one after the other: on a 2-core machine the phase takes
 * about as long as the longer lane instead of the sum. Each step's output is printed whole when it ends,
 * so two steps never interleave their lines; the check fails when any step fails, after all
 * of them have run.
 */
const LANES: readonly (readonly string[])[] = [
  ['typecheck'],
  ['lint', 'codegen:check', 'compose:check', 'trusted-documents:check', 'schema:check', 'events:json:check'],
];

const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Runs `npm run <script>`; resolves with whether it passed, once its output is printed. */
function runScript(script: string): Promise<boolean> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(NPM, ['run', '--silent', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    const output: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => output.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk));
    const finish = (passed: boolean, note = '') => {
      const seconds = ((Date.now() - started) / 1000).toFixed(1);
      process.stdout.write(`${passed ? '✅' : '❌'} npm run ${script} (${seconds} s)${note}\n${Buffer.concat(output).toString()}`);
      resolve(passed);
    };
    child.once('error', (error) => finish(false, `: ${error.message}`));
    child.once('close', (code) => finish(code === 0));
  });
}

/** A lane's steps in order; a failed step ends its lane, as `&&` would. */
async function runLane(scripts: readonly string[]): Promise<boolean> {
  for (const script of scripts) if (!(await runScript(script))) return false;
  return true;
}

Promise.all(LANES.map(runLane)).then((passed) => {
  if (passed.includes(false)) process.exit(1);
});
