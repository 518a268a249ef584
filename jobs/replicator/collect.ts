import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib';

export interface Source {
  name: 'auth' | 'tracker' | 'accounting';
  em: () => EntityManager;
}

export interface CollectResult {
  /** Outbox rows read (and removed from the outbox). */
  read: number;
  /** Of those, rows new to the master log; fewer after a crash between copy and delete. */
  copied: number;
}

/**
 * Moves up to `batchSize` outbox rows of one source into the master log. The master
 * insert commits first and skips rows it already has, then the rows leave the outbox:
 * a crash between the two only means the next pass finds them again and copies nothing.
 * Versions are the log's head plus the row's rank, so they stay gap-free as long as one
 * pass runs at a time (the pass lock, pass-lock.ts); the primary key on `version`
 * turns a second writer into an error, never into a duplicate or a gap.
 *
 * The batch travels as one JSON text from the source to the master, never parsed in
 * between; only the rows actually read are deleted, so a row committed late (a smaller
 * `seq` than one already collected) is picked up by the next batch.
 */
export async function collectFrom(master: EntityManager, source: Source, batchSize: number): Promise<CollectResult> {
  const sourceEm = source.em();
  const [batch] = await executeSql<{ count: number; rows: string; seqs: string }>(
    sourceEm,
    `select count(*)::int as count,
            coalesce(json_agg(json_build_object('seq', o.seq, 'type', o.type, 'schema_version', o.schema_version,
                                                'payload', o.payload, 'occurred_at', o.occurred_at) order by o.seq), '[]')::text as rows,
            coalesce(array_agg(o.seq order by o.seq), '{}')::text as seqs
       from (select seq, type, schema_version, payload, occurred_at from outbox order by seq limit ?) as o`,
    [batchSize],
  );
  if (!batch || batch.count === 0) return { read: 0, copied: 0 };
  const [inserted] = await executeSql<{ count: number }>(
    master,
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
     select count(*)::int as count from written`,
    [batch.rows, source.name, source.name],
  );
  await executeSql(sourceEm, 'delete from outbox where seq = any(?::bigint[])', [batch.seqs]);
  return { read: batch.count, copied: inserted?.count ?? 0 };
}

/** Collects batches from one source until a short batch shows its outbox empty; returns rows copied. */
export async function collectAll(master: EntityManager, source: Source, batchSize: number): Promise<number> {
  let copied = 0;
  for (;;) {
    const batch = await collectFrom(master, source, batchSize);
    copied += batch.copied;
    if (batch.read < batchSize) return copied;
  }
}
