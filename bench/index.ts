import { parseEnv } from '../lib/env';
import { dropRunData } from '../testing/cleanup';
import { isolateDevelopmentFile } from '../testing/isolation';
import { BENCH_LIMITS } from './limits';
import { printTable, writeResults, type BenchSection, type Measurement } from './harness';
import { SECTIONS } from './sections';

/**
 * `npm run bench [-- section ...]`: seeds its own databases (prefix bench_<random>_),
 * runs each section, prints a table and writes bench/results.json. Speed and memory
 * targets live here, never in timed unit tests. BENCH_SECTIONS=gateway,tracker picks
 * sections as the arguments do; BENCH_RESULTS=file writes the results there instead.
 */
async function main(): Promise<void> {
  process.env.DB_PREFIX ??= 'bench_';
  process.env.QUEUE_PREFIX ??= 'bench';
  process.env.LOG_LEVEL ??= 'warn';
  // Development mode, as the bench has always measured its in-process sections (docs/performance.md);
  // the gateway stack's processes run production (bench/gateway/stack.ts).
  // The in-process sections' gateway (tracker, accounting) too: createTask throughput is measured past a person's limit.
  isolateDevelopmentFile(BENCH_LIMITS);
  const wanted = [...process.argv.slice(2), ...(process.env.BENCH_SECTIONS ?? '').split(',').filter(Boolean)];
  const unknown = wanted.filter((name) => !SECTIONS.some((section) => section.name === name));
  if (unknown.length) throw new Error(`no bench section ${unknown.join(', ')}; there are ${SECTIONS.map(({ name }) => name).join(', ')}`);
  const sections: BenchSection[] = wanted.length ? SECTIONS.filter((section) => wanted.includes(section.name)) : SECTIONS.filter((section) => !section.onlyWhenNamed);
  const measurements: Measurement[] = [];
  try {
    for (const section of sections) {
      process.stderr.write(`▶ ${section.name}\n`);
      await section.run((measurement) => measurements.push({ section: section.name, ...measurement }));
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
    return;
  } finally {
    await cleanUp();
  }
  process.stdout.write(`${printTable(measurements)}\n`);
  writeResults(measurements, process.env.BENCH_RESULTS);
}

/** Drops this run's databases, Redis keys and mail folder (the ones isolateDevelopmentFile chose), unless BENCH_KEEP_DATA=1 asks to look at them. */
async function cleanUp(): Promise<void> {
  const env = parseEnv(process.env);
  if (process.env.BENCH_KEEP_DATA === '1') {
    process.stderr.write(`kept the run's data: databases ${env.DB_PREFIX}*, queues ${env.QUEUE_PREFIX}*\n`);
    return;
  }
  await dropRunData(env, [env.MAIL_DIR]);
}

main()
  .then(() => process.exit(process.exitCode ?? 0))
  .catch((error: unknown) => {
    process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  });
