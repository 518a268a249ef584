import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import { recordRewind, type SourceRewind } from './source-rewind';

export interface Source {
  name: 'auth' | 'tracker' | 'accounting';
  em: () => EntityManager;
}

export interface CollectResult {
  /** Outbox rows read (and removed from the outbox). */
  read: number;
  /** Of those, rows new to the master log; fewer after a crash between copy and delete. */
  copied: number;
  /** Of those, rows the log refused (a second payout of one user and day, a second close of one day): kept in `refused_events`. */
  refused: number;
  /** Set when this batch showed the source gone back in time (a restore) for the first time. */
  rewind: SourceRewind | null;
  /**
   * The source database's `statement_timestamp()` of the read, as text (microseconds
   * kept): every outbox row committed before it was in what this read could see.
   */
  readAt: string;
}

/**
 * The incoming rows the log refuses: money it already holds. A `payout.made` of a user and
 * day the log has (or an earlier row of the batch has), a `day.closed` of a day the log
 * has. Only an accounting restored or re-created behind the log's back writes them (it
 * closed a day again before it had read its own close back); the partial unique indexes
 * of change_log (Migration20261206020000) refuse them too, so this is the polite path:
 * the row is kept in `refused_events`, reported (refused-events.ts), and leaves the outbox.
 */
const DUPLICATES_SQL = `keyed as (
       select f.*, case f.type when 'payout.made' then f.payload->>'userId' else '' end as paid_user, f.payload->>'businessDay' as paid_day
         from fresh f where f.type in ('payout.made', 'day.closed')
     ), duplicates as (
       select k.event_id, k.type, k.schema_version, k.payload, k.occurred_at,
              case k.type when 'payout.made' then 'the log already holds a payout of this user for this business day'
                          else 'the log already holds the close of this business day' end as reason
         from (select k.*, row_number() over (partition by k.type, k.paid_user, k.paid_day order by k.seq) as nth from keyed k) as k
        where k.nth > 1
           or (k.type = 'payout.made' and exists (select 1 from change_log c where c.type = 'payout.made'
                                                    and c.payload->>'userId' = k.paid_user and c.payload->>'businessDay' = k.paid_day))
           or (k.type = 'day.closed' and exists (select 1 from change_log c where c.type = 'day.closed' and c.payload->>'businessDay' = k.paid_day))
     )`;

/**
 * Moves up to `batchSize` outbox rows of one source into the master log. The master
 * insert commits first and skips rows it already has (by event id), then exactly the rows
 * now in the log leave the outbox: a crash between the two only means the next pass finds
 * them again and copies nothing. A row the log refuses (DUPLICATES_SQL) is recorded in
 * `refused_events` instead and leaves the outbox too, so it never holds up the rows after
 * it. Versions are the log's head plus the row's rank, so they
 * stay gap-free as long as one pass runs at a time (the pass lock, pass-lock.ts); the
 * primary key on `version` turns a second writer into an error, never into a duplicate or
 * a gap.
 *
 * Rows are known by `event_id`, never by `seq`: a source restored from a backup hands its
 * seqs out again, and those new events must be copied, not taken for old ones
 * (source-rewind.ts records such a restore). The batch travels as one JSON text from the
 * source to the master, never parsed in between; a row committed late (a smaller `seq`
 * than one already collected) is picked up by the next batch.
 */
export async function collectFrom(master: EntityManager, source: Source, batchSize: number): Promise<CollectResult> {
  const sourceEm = source.em();
  const [batch] = await executeSql<{ count: number; rows: string; read_at: string }>(
    sourceEm,
    `select count(*)::int as count, statement_timestamp()::text as read_at,
            coalesce(json_agg(json_build_object('seq', o.seq, 'event_id', o.event_id, 'type', o.type, 'schema_version', o.schema_version,
                                                'payload', o.payload, 'occurred_at', o.occurred_at, 'trace_parent', o.trace_parent) order by o.seq), '[]')::text as rows
       from (select seq, event_id, type, schema_version, payload, occurred_at, trace_parent from outbox order by seq limit ?) as o`,
    [batchSize],
  );
  if (!batch) throw new Error(`the outbox of ${source.name} answered no row`);
  if (batch.count === 0) return { read: 0, copied: 0, refused: 0, rewind: null, readAt: batch.read_at };
  const rewind = await recordRewind(master, source.name, batch.rows);
  const logged = await logBatch(master, source.name, batch.rows);
  await executeSql(sourceEm, 'delete from outbox where event_id = any(?::uuid[])', [logged?.event_ids ?? '{}']);
  return { read: batch.count, copied: logged?.copied ?? 0, refused: logged?.refused ?? 0, rewind, readAt: batch.read_at };
}

/**
 * Writes one batch into the master log, in one statement: rows it already holds (or
 * refused before) are skipped, rows it refuses now go to `refused_events`, the rest get
 * the next versions. Returns the event ids that may leave the outbox.
 */
async function logBatch(master: EntityManager, source: string, rows: string): Promise<{ copied: number; refused: number; event_ids: string } | undefined> {
  const [logged] = await executeSql<{ copied: number; refused: number; event_ids: string }>(
    master,
    `with incoming as (
       select r.seq, r.event_id, r.type, r.schema_version, r.payload, r.occurred_at, r.trace_parent
         from jsonb_to_recordset(?::jsonb) as r(seq bigint, event_id uuid, type text, schema_version int, payload jsonb, occurred_at timestamptz, trace_parent text)
     ), known as (
       select i.event_id from incoming i
        where exists (select 1 from change_log c where c.event_id = i.event_id)
           or exists (select 1 from refused_events r where r.event_id = i.event_id)
     ), fresh as (
       select i.* from incoming i where i.event_id not in (select event_id from known)
     ), ${DUPLICATES_SQL},
     refused as (
       insert into refused_events (event_id, source, type, schema_version, payload, occurred_at, reason)
       select d.event_id, ?, d.type, d.schema_version, d.payload, d.occurred_at, d.reason from duplicates d
       returning event_id
     ), head as (select coalesce(max(version), 0) as version from change_log),
     written as (
       insert into change_log (version, source, source_seq, event_id, type, schema_version, payload, occurred_at, trace_parent)
       select head.version + row_number() over (order by f.seq), ?, f.seq, f.event_id, f.type, f.schema_version, f.payload, f.occurred_at, f.trace_parent
         from fresh f, head
        where f.event_id not in (select event_id from duplicates)
       returning event_id
     )
     select (select count(*) from written)::int as copied, (select count(*) from refused)::int as refused,
            (select coalesce(array_agg(event_id), '{}')
               from (select event_id from written union all select event_id from known union all select event_id from refused) as l)::text as event_ids`,
    [rows, source, source],
  );
  return logged;
}

/** What collecting a source's whole outbox did. */
export interface DrainResult {
  copied: number;
  /**
   * When the source was found drained: the `readAt` of the short read that ended the
   * collection. Every row committed in the source before it is in the master log now.
   */
  drainedAt: string;
}

/**
 * Collects batches from one source until a short batch shows its outbox empty. `onRewind`
 * hears of a source newly seen going back in time.
 */
export async function drainSource(
  master: EntityManager,
  source: Source,
  batchSize: number,
  onRewind: (rewind: SourceRewind) => Promise<void> = async () => undefined,
): Promise<DrainResult> {
  let copied = 0;
  for (;;) {
    const batch = await collectFrom(master, source, batchSize);
    copied += batch.copied;
    if (batch.rewind) await onRewind(batch.rewind);
    if (batch.read < batchSize) return { copied, drainedAt: batch.readAt };
  }
}

/** `drainSource`, answering the rows copied. */
export async function collectAll(
  master: EntityManager,
  source: Source,
  batchSize: number,
  onRewind: (rewind: SourceRewind) => Promise<void> = async () => undefined,
): Promise<number> {
  return (await drainSource(master, source, batchSize, onRewind)).copied;
}
