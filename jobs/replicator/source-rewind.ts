import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import { recordAlert } from './alert-outbox';
import { rewindAlert } from './alerts';

/** A source seen going back in time, as recorded in the master's source_rewinds. */
export interface SourceRewind {
  source: string;
  detectedAt: Date;
  /** The highest seq the master log held from the source when the rewind showed. */
  previousHighSeq: string;
  /** The first seq handed out again. */
  firstNewSeq: string;
}

/**
 * Looks at a batch about to be logged for a source that went back in time: a row the log
 * does not know (new event id) carrying a seq the log already holds from that source. Only
 * a restore from backup does that; a row merely committed late has a seq never logged.
 * Records the incident once: later reuses of seqs logged before it belong to it, so one
 * restore is one row, while a second restore (reusing seqs logged after the first was
 * detected, or seqs below the first one's) is a new one. Returns the incident when new.
 * Its alert (log line and admin mail, alert-outbox.ts) is recorded in the same transaction:
 * a copy that fails after it cannot leave an incident nobody was told of.
 *
 * The events the restore took from the source stay in the master log and so in every
 * replica; nothing here changes what is copied.
 */
export function recordRewind(master: EntityManager, source: string, batchRows: string): Promise<SourceRewind | null> {
  return master.transactional(async (tx) => {
    const rewind = await insertRewind(tx, source, batchRows);
    if (rewind) await recordAlert(tx, rewindAlert(rewind));
    return rewind;
  });
}

async function insertRewind(master: EntityManager, source: string, batchRows: string): Promise<SourceRewind | null> {
  const [rewind] = await executeSql<{ detected_at: Date; previous_high_seq: string; first_new_seq: string }>(
    master,
    `with incoming as (
       select r.seq, r.event_id from jsonb_to_recordset(?::jsonb) as r(seq bigint, event_id uuid)
     ), reused as (
       select i.seq, (select max(c.version) from change_log c where c.source = ? and c.source_seq = i.seq) as logged_version
         from incoming i
        where not exists (select 1 from change_log c where c.event_id = i.event_id)
          and exists (select 1 from change_log c where c.source = ? and c.source_seq = i.seq)
        order by i.seq limit 1
     ), unreported as (
       select reused.seq from reused
        where not exists (select 1 from source_rewinds w
                           where w.source = ? and w.log_version >= reused.logged_version and w.first_new_seq <= reused.seq)
     )
     insert into source_rewinds (source, previous_high_seq, first_new_seq, log_version)
     select ?, (select max(source_seq) from change_log where source = ?), unreported.seq,
            (select coalesce(max(version), 0) from change_log)
       from unreported
     returning detected_at, previous_high_seq::text, first_new_seq::text`,
    [batchRows, source, source, source, source, source],
  );
  return rewind
    ? { source, detectedAt: rewind.detected_at, previousHighSeq: rewind.previous_high_seq, firstNewSeq: rewind.first_new_seq }
    : null;
}
