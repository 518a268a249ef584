import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import type { RefusedEvent } from './alerts';

/** How many refused events one report names at most; the rest follow in the next pass's. */
const REPORT_BATCH = 100;

/**
 * Reports the events the log refused and no one has been told of yet: `tell` (a log line
 * and one admin mail) first, then they are marked reported. A failure to tell leaves them
 * unreported for the next pass, so a refusal is never silent; the mail key makes a
 * repeated report one mail.
 */
export async function reportRefusedEvents(master: EntityManager, tell: (refused: RefusedEvent[]) => Promise<void>): Promise<number> {
  const rows = await executeSql<{ event_id: string; source: string; type: string; payload: unknown; reason: string }>(
    master,
    `select event_id::text, source, type, payload, reason from refused_events where reported_at is null order by refused_at, event_id limit ?`,
    [REPORT_BATCH],
  );
  if (rows.length === 0) return 0;
  await tell(rows.map((row) => ({ eventId: row.event_id, source: row.source, type: row.type, payload: row.payload, reason: row.reason })));
  await executeSql(master, 'update refused_events set reported_at = now() where event_id = any(?::uuid[])', [`{${rows.map((row) => row.event_id).join(',')}}`]);
  return rows.length;
}
