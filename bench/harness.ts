import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';

/** One measured figure, with the target it is held to when there is one. */
export interface Measurement {
  section: string;
  metric: string;
  value: number;
  unit: string;
  target?: { comparison: '<=' | '>='; value: number };
}

/** How a section hands over a figure: the harness adds the section's name. */
export type RecordMeasurement = (measurement: Omit<Measurement, 'section'>) => void;

export interface BenchSection {
  name: string;
  /** Left out of a run that names no sections (the soak takes half an hour): runs only when named. */
  onlyWhenNamed?: boolean;
  run(record: RecordMeasurement): Promise<void>;
}

export function meetsTarget(measurement: Measurement): boolean | undefined {
  if (!measurement.target) return undefined;
  return measurement.target.comparison === '<='
    ? measurement.value <= measurement.target.value
    : measurement.value >= measurement.target.value;
}

export function percentile(sortedValues: readonly number[], fraction: number): number {
  if (sortedValues.length === 0) return Number.NaN;
  const index = Math.min(sortedValues.length - 1, Math.ceil(fraction * sortedValues.length) - 1);
  return sortedValues[Math.max(0, index)] ?? Number.NaN;
}

export function printTable(measurements: readonly Measurement[]): string {
  const rows = measurements.map((m) => {
    const met = meetsTarget(m);
    const target = m.target ? `${m.target.comparison} ${m.target.value} ${m.unit}` : '';
    return [m.section, m.metric, formatValue(m.value), m.unit, target, met === undefined ? '' : met ? '✅' : '❌'];
  });
  const header = ['section', 'metric', 'value', 'unit', 'target', 'ok'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => String(row[column]).length)));
  const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ');
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(value < 10 ? 2 : 1);
}

export function writeResults(measurements: readonly Measurement[], file = join(__dirname, 'results.json')): void {
  mkdirSync(join(file, '..'), { recursive: true });
  const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), machine, measurements: measurements.map((m) => ({ ...m, met: meetsTarget(m) })) }, null, 2)}\n`);
}
