import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** One process as /proc/<pid>/stat tells it: its parent, its command and the CPU it has used. */
export interface ProcessCpu {
  pid: number;
  parent: number;
  command: string;
  cpuSeconds: number;
}

/** Every process's CPU so far (user + system), from one pass over /proc: the one reader of it. */
export function readProcesses(): ProcessCpu[] {
  const processes: ProcessCpu[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      // Fields after the command: state is field 3, ppid 4, utime 14, stime 15 (1-based).
      const fields = stat.slice(close + 2).split(' ');
      const ticks = Number(fields[11]) + Number(fields[12]);
      processes.push({ pid: Number(entry), parent: Number(fields[1]), command: stat.slice(stat.indexOf('(') + 1, close), cpuSeconds: ticks / TICKS_PER_SECOND });
    } catch {
      // the process ended while we looked
    }
  }
  return processes;
}

/** The process title a PostgreSQL backend sets ("postgres: user database client state"), or '' when gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** CPU seconds of `pid` and every process below it (a CLI that forks its server is charged whole). */
export function treeCpuSeconds(processes: readonly ProcessCpu[], pid: number): number {
  const children = new Map<number, ProcessCpu[]>();
  for (const process of processes) children.set(process.parent, [...(children.get(process.parent) ?? []), process]);
  let total = 0;
  const stack = processes.filter((process) => process.pid === pid);
  for (let next = stack.pop(); next; next = stack.pop()) {
    total += next.cpuSeconds;
    stack.push(...(children.get(next.pid) ?? []));
  }
  return total;
}

function postgresCpuSeconds(): number {
  return readProcesses()
    .filter((process) => process.command.startsWith('postgres'))
    .reduce((sum, process) => sum + process.cpuSeconds, 0);
}

const ownCpuSeconds = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
};

/**
 * Measures the CPU `work` costs this process and PostgreSQL together (the whole pipeline
 * when the work runs in this process), so a rate can be given per core: events per CPU
 * second rather than per wall-clock second.
 */
export async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpuSeconds: number }> {
  const before = ownCpuSeconds() + postgresCpuSeconds();
  const result = await work();
  return { result, cpuSeconds: ownCpuSeconds() + postgresCpuSeconds() - before };
}
