import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU seconds (user + system) PostgreSQL's processes have used so far, from /proc. */
function postgresCpuSeconds(): number {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      // Fields after the command: state is field 3, utime 14, stime 15 (1-based).
      const fields = stat.slice(close + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended while we looked
    }
  }
  return ticks / TICKS_PER_SECOND;
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
