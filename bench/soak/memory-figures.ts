import { readFileSync } from 'node:fs';
import { printTable, type Measurement } from '../harness';
import type { MemorySample } from './memory';
import { SOAK_PROCESSES } from './stack';

/** The most a process's RSS may move from just after the warm-up to the end, as a share of the first. */
export const RSS_CHANGE_TARGET = 10;
const WARM_UP_MINUTES = 2;
/** Minutes per window compared (the issue compared minutes 2–7 with 24–30). */
const WINDOW_MINUTES = 6;

/**
 * Each process's memory figures from the minute samples. One reading swings by ±20 % with
 * where the garbage collector stands, so the target compares windows: the median RSS of the
 * first minutes after the warm-up with that of the last minutes. Min, max and the single
 * readings at the warm-up's end and at the end are shown beside it.
 */
export function memoryMeasurements(samples: readonly MemorySample[]): Omit<Measurement, 'section'>[] {
  const lastMinute = Math.max(...samples.map((sample) => sample.minute));
  const span = Math.max(1, Math.min(WINDOW_MINUTES, Math.floor((lastMinute - WARM_UP_MINUTES + 1) / 3)));
  const early = [WARM_UP_MINUTES, WARM_UP_MINUTES + span - 1] as const;
  const late = [lastMinute - span + 1, lastMinute] as const;
  return SOAK_PROCESSES.flatMap((name) => {
    const mine = samples.filter((sample) => sample.process === name);
    const within = ([from, to]: readonly [number, number]) => mine.filter((sample) => sample.minute >= from && sample.minute <= to).map((sample) => sample.rss);
    const settled = within([WARM_UP_MINUTES, lastMinute]);
    const before = median(within(early));
    const after = median(within(late));
    const atWarmUp = mine.find((sample) => sample.minute === WARM_UP_MINUTES);
    const atEnd = mine.at(-1);
    return [
      { metric: `${name} RSS at minute ${WARM_UP_MINUTES} → at the end`, value: atEnd?.rss ?? Number.NaN, unit: `MiB (from ${atWarmUp?.rss ?? '?'})` },
      { metric: `${name} RSS min / max from minute ${WARM_UP_MINUTES}`, value: Math.max(...settled), unit: `MiB (min ${Math.min(...settled)})` },
      { metric: `${name} RSS median, minutes ${early.join('–')} → ${late.join('–')}`, value: after, unit: `MiB (from ${before})` },
      { metric: `${name} RSS change, median of minutes ${late.join('–')} over ${early.join('–')}`, value: round1((100 * (after - before)) / before), unit: '%', target: { comparison: '<=', value: RSS_CHANGE_TARGET } },
      { metric: `${name} heap used at minute ${WARM_UP_MINUTES} → at the end`, value: atEnd?.heapUsed ?? Number.NaN, unit: `MiB (from ${atWarmUp?.heapUsed ?? '?'})` },
    ];
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? Number.NaN) : round1(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2);
}

const round1 = (value: number) => Math.round(value * 10) / 10;

// `npx tsx bench/soak/memory-figures.ts var/soak/minutes.json`: a finished soak's memory table again.
if (require.main === module) {
  const [file] = process.argv.slice(2);
  if (!file) throw new Error('usage: memory-figures.ts <minutes.json>');
  const { samples } = JSON.parse(readFileSync(file, 'utf8')) as { samples: MemorySample[] };
  process.stdout.write(`${printTable(memoryMeasurements(samples).map((measurement) => ({ section: 'soak', ...measurement })))}\n`);
}
