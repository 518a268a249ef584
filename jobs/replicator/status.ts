import type { EntityManager } from '@mikro-orm/postgresql';

export interface ReplicaStatus {
  replica: string;
  watermark: string;
  head: string;
  lagEvents: string;
  /** Age of the oldest change this replica has not applied yet; 0 when caught up. */
  lagSeconds: number;
  consecutiveFailures: number;
  lastError: string | null;
  poisonVersion: string | null;
  incidentSince: Date | null;
}

/** Each replica's progress against the head of the master log, for /health and operators. */
export async function replicationStatus(master: EntityManager): Promise<ReplicaStatus[]> {
  const rows = await master.execute<
    {
      replica: string;
      watermark: string;
      head: string;
      lag_seconds: number | null;
      consecutive_failures: number;
      last_error: string | null;
      poison_version: string | null;
      /** MikroORM's connection hands timestamps over as text. */
      incident_started_at: string | null;
    }[]
  >(
    `with head as (select coalesce(max(version), 0) as version from change_log)
     select s.replica, s.watermark::text, head.version::text as head,
            extract(epoch from clock_timestamp() - (select c.recorded_at from change_log c where c.version = s.watermark + 1))::float8 as lag_seconds,
            s.consecutive_failures, s.last_error, s.poison_version::text, s.incident_started_at
       from replica_state s, head order by s.replica`,
  );
  return rows.map((row) => ({
    replica: row.replica,
    watermark: row.watermark,
    head: row.head,
    lagEvents: String(BigInt(row.head) - BigInt(row.watermark)),
    lagSeconds: row.lag_seconds ?? 0,
    consecutiveFailures: row.consecutive_failures,
    lastError: row.last_error,
    poisonVersion: row.poison_version,
    incidentSince: row.incident_started_at === null ? null : new Date(row.incident_started_at),
  }));
}
