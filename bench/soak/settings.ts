import { SOAK_PROCESSES, type SoakProcess } from './stack';

/** The soak's switches (docs/performance.md "Soak"), from the environment. */
export interface SoakSettings {
  minutes: number;
  /** Clients per role, each its own user. */
  clientsPerRole: number;
  /** Requests per second of all clients together, when the host keeps up. */
  rate: number;
  pageRows: number;
  shuffleEveryMinutes: number;
  /**
   * The processes whose heap is snapshotted at `snapshotMinute` and half a minute before the
   * end; none by default: writing a snapshot leaves the process 150 MiB or so more RSS (the
   * serialiser's memory, kept by malloc), so a run with snapshots says nothing about RSS.
   */
  snapshots: SoakProcess[];
  snapshotMinute: number;
  /** SOAK_AUDIT_LOG=whole-day: the clients read audit logs as the contract's MyAccount and Account, unpaged (the load of issue 26). */
  wholeDayLogs: boolean;
}

const number = (name: string, fallback: number): number => {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
};

export function soakSettings(): SoakSettings {
  const snapshots = (process.env.SOAK_SNAPSHOTS ?? '').split(',').filter((name) => name && name !== 'none');
  const unknown = snapshots.filter((name) => !(SOAK_PROCESSES as readonly string[]).includes(name));
  if (unknown.length) throw new Error(`SOAK_SNAPSHOTS: no process ${unknown.join(', ')}; there are ${SOAK_PROCESSES.join(', ')}`);
  const minutes = number('SOAK_MINUTES', 30);
  return {
    minutes,
    clientsPerRole: Math.round(number('SOAK_CLIENTS', 4)),
    rate: number('SOAK_RATE', 25),
    pageRows: Math.round(number('SOAK_PAGE_ROWS', 50)),
    shuffleEveryMinutes: number('SOAK_SHUFFLE_EVERY_MINUTES', 5),
    snapshots: snapshots as SoakProcess[],
    snapshotMinute: Math.min(number('SOAK_SNAPSHOT_MINUTE', 3), Math.max(1, minutes - 1)),
    wholeDayLogs: auditLogReads() === 'whole-day',
  };
}

function auditLogReads(): 'pages' | 'whole-day' {
  const value = process.env.SOAK_AUDIT_LOG ?? 'pages';
  if (value !== 'pages' && value !== 'whole-day') throw new Error(`SOAK_AUDIT_LOG must be pages or whole-day, not "${value}"`);
  return value;
}
