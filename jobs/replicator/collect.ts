import type { EntityManager } from '@mikro-orm/postgresql';

export interface Source {
  name: 'auth' | 'tracker' | 'accounting';
  em: () => EntityManager;
}

interface OutboxRow {
  seq: string;
  type: string;
  schema_version: number;
  payload: unknown;
  occurred_at: Date;
}

/**
 * Moves up to `batchSize` outbox rows of one source into the master log. The master
 * insert commits first and skips rows it already has, then the rows leave the outbox:
 * a crash between the two only means the next pass finds them again and copies nothing.
 * Versions are the log's head plus the row's rank, so they stay gap-free as long as one
 * pass runs at a time (the pass lock in pass.ts).
 */
export async function collectFrom(master: EntityManager, source: Source, batchSize: number): Promise<number> {
  const sourceEm = source.em();
  const rows = await sourceEm.execute<OutboxRow[]>(
    'select seq, type, schema_version, payload, occurred_at from outbox order by seq limit ?',
    [batchSize],
  );
  if (rows.length === 0) return 0;
  const inserted = await master.execute<{ count: string }[]>(
    `with batch as (
       select r.seq, r.type, r.schema_version, r.payload, r.occurred_at
         from jsonb_to_recordset(?::jsonb) as r(seq bigint, type text, schema_version int, payload jsonb, occurred_at timestamptz)
        where not exists (select 1 from change_log c where c.source = ? and c.source_seq = r.seq)
     ), head as (select coalesce(max(version), 0) as version from change_log),
     written as (
       insert into change_log (version, source, source_seq, type, schema_version, payload, occurred_at)
       select head.version + row_number() over (order by batch.seq), ?, batch.seq, batch.type, batch.schema_version, batch.payload, batch.occurred_at
         from batch, head
       returning 1
     )
     select count(*)::text as count from written`,
    [JSON.stringify(rows), source.name, source.name],
  );
  await sourceEm.execute('delete from outbox where seq in (select jsonb_array_elements_text(?::jsonb)::bigint)', [
    JSON.stringify(rows.map((row) => row.seq)),
  ]);
  return Number(inserted[0]?.count ?? 0);
}
