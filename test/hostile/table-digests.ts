import { databaseName, withConnection, type DatabaseName } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';

/** Every database a hostile request could touch: each subgraph's own and the replicator's master. */
export const EVERY_DATABASE: readonly DatabaseName[] = ['auth', 'tracker', 'accounting', 'analytics', 'master'];

/**
 * Each table of the given databases as "<rows>:<md5 of every row>", keyed "<database>.<schema>.<table>":
 * two digests are equal exactly when no row was added, removed or changed. One query per
 * database (a union over its tables), so a whole system is read in five.
 */
export async function tableDigests(env: Env, databases: readonly DatabaseName[] = EVERY_DATABASE): Promise<Record<string, string>> {
  const digests: Record<string, string> = {};
  for (const database of databases) {
    await withConnection(env, databaseName(env, database), async (client) => {
      const tables = await client.query<{ name: string }>(
        `select format('%I.%I', table_schema, table_name) as name from information_schema.tables
          where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1`,
      );
      if (tables.rows.length === 0) return;
      const union = tables.rows
        .map(({ name }) => `select '${name.replaceAll("'", "''")}' as name, count(*)::int as rows, coalesce(md5(string_agg(t::text, ',' order by t::text)), '') as digest from ${name} t`)
        .join(' union all ');
      const { rows } = await client.query<{ name: string; rows: number; digest: string }>(union);
      for (const row of rows) digests[`${database}.${row.name}`] = `${row.rows}:${row.digest}`;
    });
  }
  return digests;
}

/** The sources whose `outbox` the replicator drains. */
const SOURCES: readonly DatabaseName[] = ['auth', 'tracker', 'accounting'];

/** The replicas, each keeping its own watermark beside the tables it applies. */
const REPLICAS: readonly DatabaseName[] = ['tracker', 'accounting', 'analytics'];

/**
 * Whether replication has nothing in hand: every source's outbox drained and every replica's
 * own watermark at the head of the master log. Digests compared only then tell what a request
 * did, not what an earlier one's events are still doing. The replicas' own watermarks, not the
 * master's record of them: a replica the master has not yet recorded is not at the head.
 */
export async function replicationSettled(env: Env): Promise<boolean> {
  for (const source of SOURCES) {
    const waiting = await withConnection(env, databaseName(env, source), async (client) => (await client.query('select 1 from outbox limit 1')).rowCount);
    if (waiting) return false;
  }
  const head = await withConnection(env, databaseName(env, 'master'), async (client) =>
    BigInt((await client.query<{ head: string }>('select coalesce(max(version), 0)::text as head from change_log')).rows[0]?.head ?? '0'),
  );
  for (const replica of REPLICAS) {
    const mark = await withConnection(env, databaseName(env, replica), async (client) => (await client.query<{ version: string }>('select version::text as version from replication_watermark where id = 1')).rows[0]?.version);
    if (mark === undefined || BigInt(mark) < head) return false;
  }
  return true;
}
