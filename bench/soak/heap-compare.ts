import { readFileSync } from 'node:fs';

/** What grew between two heap snapshots of one process, by what the objects are. */
export interface HeapGrowth {
  what: string;
  countBefore: number;
  countAfter: number;
  /** Bytes of the objects themselves (self size), not what they keep alive. */
  bytesBefore: number;
  bytesAfter: number;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Kinds whose name says what they are (a constructor, a function); other kinds are grouped by kind alone. */
const NAMED_KINDS = new Set(['object', 'closure', 'array', 'regexp', 'native']);

/** Objects of a snapshot by kind and constructor: how many, how many bytes. */
export function heapCensus(file: string): Map<string, { count: number; bytes: number }> {
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = parsed.snapshot.meta.node_fields;
  const [kinds] = parsed.snapshot.meta.node_types;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const census = new Map<string, { count: number; bytes: number }>();
  for (let node = 0; node < parsed.nodes.length; node += width) {
    const kind = kinds[parsed.nodes[node + typeAt] ?? 0] ?? '?';
    const what = NAMED_KINDS.has(kind) ? `${kind} ${(parsed.strings[parsed.nodes[node + nameAt] ?? 0] ?? '').slice(0, 60)}` : `(${kind})`;
    const entry = census.get(what) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += parsed.nodes[node + sizeAt] ?? 0;
    census.set(what, entry);
  }
  return census;
}

/** The `top` kinds of object that grew most in bytes from `before` to `after`, and the totals. */
export function compareHeapSnapshots(before: string, after: string, top = 15): { growth: HeapGrowth[]; totalBefore: number; totalAfter: number } {
  const first = heapCensus(before);
  const second = heapCensus(after);
  const kinds = new Set([...first.keys(), ...second.keys()]);
  const growth = [...kinds]
    .map((what) => ({ what, countBefore: first.get(what)?.count ?? 0, countAfter: second.get(what)?.count ?? 0, bytesBefore: first.get(what)?.bytes ?? 0, bytesAfter: second.get(what)?.bytes ?? 0 }))
    .sort((left, right) => right.bytesAfter - right.bytesBefore - (left.bytesAfter - left.bytesBefore));
  const total = (census: Map<string, { bytes: number }>) => [...census.values()].reduce((sum, entry) => sum + entry.bytes, 0);
  return { growth: growth.slice(0, top), totalBefore: total(first), totalAfter: total(second) };
}

/** The comparison as lines of text, sizes in KiB. */
export function describeHeapGrowth(label: string, comparison: ReturnType<typeof compareHeapSnapshots>): string {
  const kib = (bytes: number) => `${Math.round(bytes / 1024)} KiB`;
  return [
    `${label}: live objects ${kib(comparison.totalBefore)} → ${kib(comparison.totalAfter)}; most grown:`,
    ...comparison.growth.map((row) => `  ${row.what}: ${row.countBefore} → ${row.countAfter} objects, ${kib(row.bytesBefore)} → ${kib(row.bytesAfter)}`),
  ].join('\n');
}

// `npx tsx bench/soak/heap-compare.ts before.heapsnapshot after.heapsnapshot [top]`
if (require.main === module) {
  const [before, after, top] = process.argv.slice(2);
  if (!before || !after) throw new Error('usage: heap-compare.ts <before.heapsnapshot> <after.heapsnapshot> [top]');
  process.stdout.write(`${describeHeapGrowth(after, compareHeapSnapshots(before, after, Number(top ?? 25)))}\n`);
}
