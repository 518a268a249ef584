import type { EntityManager } from '@popug/lib/db/orm';
import { executeSql } from '@popug/lib/db/sql';
import type { ChangeEvent, ReplicaDefinition } from '@popug/lib/replication/replica';

interface LogRow {
  version: string;
  source: string;
  type: string;
  schema_version: number;
  payload: unknown;
  /** MikroORM's connection hands timestamps over as text. */
  occurred_at: string;
  trace_parent: string | null;
}

/** A replica's events after `after`, as far as one batch (or the head, or `stopBefore`) goes. */
export interface LogSlice {
  after: string;
  events: ChangeEvent[];
  /** Where the watermark goes once `events` are applied. */
  watermark: string;
}

/**
 * Reads a replica's part of the master log, one slice at a time, never past `stopBefore`
 * (a poison event). After a full slice it starts reading the next one at once, so the
 * master is read while the replica writes; that slice is used only if the next request
 * really starts where this one ended (a batch rolled back starts earlier).
 */
export class LogReader {
  private ahead: { after: string; size: number; slice: Promise<LogSlice | undefined> } | undefined;

  constructor(
    private readonly master: EntityManager,
    private readonly replica: ReplicaDefinition,
    readonly stopBefore?: string,
  ) {}

  async read(after: string, size: number): Promise<LogSlice> {
    const ahead = this.ahead?.after === after && this.ahead.size === size ? await this.ahead.slice : undefined;
    this.ahead = undefined;
    const slice = ahead ?? (await readSlice(this.master, this.replica, after, size, this.stopBefore));
    if (slice.events.length === size) {
      // Awaited by the next read, or dropped: a failure here only means reading it again.
      this.ahead = { after: slice.watermark, size, slice: readSlice(this.master, this.replica, slice.watermark, size, this.stopBefore).catch(() => undefined) };
    }
    return slice;
  }
}

export async function readSlice(
  master: EntityManager,
  replica: ReplicaDefinition,
  after: string,
  size: number,
  stopBefore: string | undefined,
): Promise<LogSlice> {
  const end = await lastReadable(master, stopBefore);
  if (end <= BigInt(after)) return { after, events: [], watermark: after };
  const rows = await executeSql<LogRow>(
    master,
    // Ordered by the bigint column: `order by version` would sort the text alias.
    `select c.version::text as version, c.source, c.type, c.schema_version, c.payload, c.occurred_at, c.trace_parent from change_log c
      where c.version > ? and c.version <= ? and c.type in (select jsonb_array_elements_text(?::jsonb))
      order by c.version limit ?`,
    [after, String(end), JSON.stringify(replica.eventTypes), size],
  );
  // A full slice stops at its last row; a short one has seen everything up to the end.
  const last = rows.length === size ? rows[rows.length - 1]?.version : undefined;
  const revisions = await userRevisionsOf(master, rows);
  const events = rows.map((row) => {
    const revision = revisions.get(row.version);
    return revision === undefined ? toChangeEvent(row) : { ...toChangeEvent(row), userRevision: revision };
  });
  return { after, events, watermark: last ?? String(end) };
}

const isUserChangedV1 = (row: Pick<LogRow, 'type' | 'schema_version'>) => row.type === 'user.changed' && row.schema_version === 1;

/**
 * The revision each user.changed v1 event of a slice had when first applied (they carry
 * none: UpgradeContext), from the log alone, so a rebuild gives it whatever copy the
 * replica holds and whatever its batch size. Live, applied in log order from nothing, a
 * v1 event was one past the newest copy before it: the copy before each event is the
 * running maximum of the explicit revisions (registrations, v2 changes), each pushed up
 * by the v1 events after it (the first copy being none, revision 0). With n = v1 events of
 * the user up to the row, that is n + max(0, explicit − n over the rows before). One
 * statement over the user's events (change_log_user_version_index), only
 * for slices that hold a v1 event (none has been written since v2).
 */
async function userRevisionsOf(master: EntityManager, rows: readonly LogRow[]): Promise<Map<string, number>> {
  const upgraded = rows.filter(isUserChangedV1);
  if (upgraded.length === 0) return new Map();
  const ids = [...new Set(upgraded.map((row) => (row.payload as { id?: unknown } | null)?.id).filter((id) => typeof id === 'string'))];
  const revisions = await executeSql<{ version: string; revision: number }>(
    master,
    `with history as (
       select h.version, h.type, h.schema_version, h.payload->>'id' as user_id,
              case when jsonb_typeof(h.payload->'revision') = 'number' then (h.payload->>'revision')::numeric end as explicit,
              count(*) filter (where h.type = 'user.changed' and h.schema_version = 1)
                over (partition by h.payload->>'id' order by h.version) as upgraded
         from change_log h
        where h.type in ('user.registered', 'user.changed')
          and h.payload->>'id' in (select jsonb_array_elements_text(?::jsonb)) and h.version <= ?
     ), revised as (
       select version, type, schema_version,
              upgraded + greatest(max(explicit - upgraded) over (partition by user_id order by version), 0) as revision
         from history
     )
     select version::text as version, revision::int as revision from revised
      where type = 'user.changed' and schema_version = 1 and version in (select jsonb_array_elements_text(?::jsonb)::bigint)`,
    [JSON.stringify(ids), upgraded[upgraded.length - 1]?.version ?? '0', JSON.stringify(upgraded.map((row) => row.version))],
  );
  return new Map(revisions.map((row) => [row.version, row.revision]));
}

/** The log's head, or the version just before `stopBefore` when that comes first. */
async function lastReadable(master: EntityManager, stopBefore: string | undefined): Promise<bigint> {
  const [head] = await executeSql<{ version: string }>(master, 'select coalesce(max(version), 0)::text as version from change_log');
  const logHead = BigInt(head?.version ?? '0');
  return stopBefore !== undefined && BigInt(stopBefore) - 1n < logHead ? BigInt(stopBefore) - 1n : logHead;
}

const toChangeEvent = (row: LogRow): ChangeEvent => ({
  version: row.version,
  source: row.source,
  type: row.type,
  schemaVersion: row.schema_version,
  payload: row.payload,
  occurredAt: new Date(row.occurred_at),
  traceParent: row.trace_parent,
});
