import { commandLine, readProcesses, treeCpuSeconds } from '../cpu';
import { ROLES, type Role } from './targets';

type ProcessRole = Exclude<Role, 'postgres'>;

/** CPU seconds so far of each service process, and of each PostgreSQL backend serving this run. */
export interface CpuReading {
  services: Record<ProcessRole, number>;
  backends: Map<number, number>;
}

/**
 * Reads the CPU of the given processes (with anything they forked) and of the PostgreSQL
 * backends connected to `databases` — this run's, not other users' of the same server (the
 * backend's process title names its database). A pid of 0 reads as nothing (no gateway, direct).
 */
export function readCpu(pids: Record<ProcessRole, number>, databases: readonly string[]): CpuReading {
  const processes = readProcesses();
  const services = Object.fromEntries(Object.entries(pids).map(([role, pid]) => [role, pid ? treeCpuSeconds(processes, pid) : 0])) as Record<ProcessRole, number>;
  const backends = new Map<number, number>();
  for (const { pid, command, cpuSeconds } of processes) {
    if (command !== 'postgres') continue;
    const title = commandLine(pid);
    if (databases.some((database) => title.includes(` ${database} `))) backends.set(pid, cpuSeconds);
  }
  return { services, backends };
}

/** CPU seconds each role used between two readings; a backend that started in between counts whole. */
export function cpuBetween(before: CpuReading, after: CpuReading): Record<Role, number> {
  let postgres = 0;
  for (const [pid, seconds] of after.backends) postgres += seconds - (before.backends.get(pid) ?? 0);
  const used = { postgres } as Record<Role, number>;
  for (const role of ROLES) if (role !== 'postgres') used[role] = after.services[role] - before.services[role];
  return used;
}
