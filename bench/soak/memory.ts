import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { HEAP_SNAPSHOT_SIGNAL, REPORT_SIGNAL, SOAK_PROCESSES, type SoakProcess, type SoakStack } from './stack';

/** One process's memory at one moment, in MiB. */
export interface MemorySample {
  minute: number;
  process: SoakProcess;
  rss: number;
  heapUsed: number;
  heapTotal: number;
}

const MIB = 2 ** 20;
const WAIT_MS = 30_000;

/** Every process's RSS (from /proc) and V8 heap (from a diagnostic report it writes on REPORT_SIGNAL), at `minute`. */
export async function sampleMemory(stack: SoakStack, minute: number): Promise<MemorySample[]> {
  return Promise.all(
    SOAK_PROCESSES.map(async (name) => {
      const rss = residentBytes(stack.pids[name]) / MIB;
      const heap = await reportedHeap(stack, name);
      return { minute, process: name, rss: round1(rss), heapUsed: round1(heap.usedMemory / MIB), heapTotal: round1(heap.totalMemory / MIB) };
    }),
  );
}

function residentBytes(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith('VmRSS:'));
  return Number(/(\d+)/.exec(line ?? '')?.[1] ?? Number.NaN) * 1024;
}

async function reportedHeap(stack: SoakStack, name: SoakProcess): Promise<{ usedMemory: number; totalMemory: number }> {
  const dir = stack.dirs[name];
  const before = new Set(readdirSync(dir));
  process.kill(stack.pids[name], REPORT_SIGNAL);
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    for (const file of readdirSync(dir).filter((entry) => entry.startsWith('report.') && !before.has(entry))) {
      try {
        const report = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { javascriptHeap: { usedMemory: number; totalMemory: number } };
        rmSync(join(dir, file));
        return report.javascriptHeap;
      } catch {
        // still being written
      }
    }
    await pause(100);
  }
  throw new Error(`${name} wrote no diagnostic report within ${WAIT_MS} ms`);
}

/**
 * A heap snapshot of `name` (the process pauses while V8 writes it), moved to `keptAs`
 * (for DevTools' Memory tab, or bench/soak/heap-compare.ts); `keptAs`.
 */
export async function takeHeapSnapshot(stack: SoakStack, name: SoakProcess, keptAs: string): Promise<string> {
  const dir = stack.dirs[name];
  const before = new Set(readdirSync(dir));
  process.kill(stack.pids[name], HEAP_SNAPSHOT_SIGNAL);
  const deadline = Date.now() + 10 * WAIT_MS;
  let lastSize = -1;
  while (Date.now() < deadline) {
    await pause(1000);
    const file = readdirSync(dir).find((entry) => entry.endsWith('.heapsnapshot') && !before.has(entry));
    if (!file) continue;
    const size = statSync(join(dir, file)).size;
    // V8 writes the snapshot in chunks and ends with the strings: done when it stops growing and parses as closed JSON.
    if (size > 0 && size === lastSize && readTail(join(dir, file)).trimEnd().endsWith('}')) {
      renameSync(join(dir, file), keptAs);
      return keptAs;
    }
    lastSize = size;
  }
  throw new Error(`${name} wrote no heap snapshot within ${(10 * WAIT_MS) / 1000} s`);
}

function readTail(file: string): string {
  const handle = openSync(file, 'r');
  try {
    const tail = Buffer.alloc(64);
    const read = readSync(handle, tail, 0, tail.length, Math.max(0, fstatSync(handle).size - tail.length));
    return tail.subarray(0, read).toString('utf8');
  } finally {
    closeSync(handle);
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round1 = (value: number) => Math.round(value * 10) / 10;
