import type { EntityManager } from '@mikro-orm/postgresql';
import { executePreparedSql } from '@popug/lib/db/sql';
import type { Caller } from '@popug/lib/identity';

/**
 * Where a session stands, for the gateway's live subscriptions (gateway/subscriptions/session-watch.ts):
 * `active` with the user as auth holds it now (a new role or revision re-subscribes), `ended`
 * (logout, password change or reset, refresh reuse, or no such session), `deactivated`.
 */
export type SessionState = { state: 'active'; caller: Caller } | { state: 'ended' } | { state: 'deactivated' };

interface SessionRow {
  session_id: string;
  ended: boolean;
  id: string;
  email: string;
  name: string;
  role: string;
  revision: number;
  active: boolean;
}

/**
 * One set-based read for every asked session, however many: a gateway asks once per tick for all its streams.
 * `knownRevisions` (the user's revision the gateway holds for each session, in the same order):
 * a session still active at that revision is left out of the answer, so a tick over thousands
 * of unchanged streams answers with almost nothing (every change of a user bumps the revision).
 */
export async function sessionStates(em: EntityManager, sessionIds: readonly string[], knownRevisions?: readonly number[]): Promise<Record<string, SessionState>> {
  const rows = await executePreparedSql<SessionRow>(
    em,
    `select s.id as session_id, s.ended_at is not null as ended, u.id, u.email, u.name, u.role, u.revision, u.active
       from sessions s join users u on u.id = s.user_id
      where s.id = any(?::uuid[])`,
    // A PostgreSQL array literal in one parameter: the ids are checked UUIDs (identity-route.ts), and one statement serves any count.
    [`{${sessionIds.join(',')}}`],
  );
  const states: Record<string, SessionState> = Object.create(null) as Record<string, SessionState>;
  for (const id of sessionIds) states[id] = { state: 'ended' };
  const known = new Map(knownRevisions ? sessionIds.map((id, index) => [id, knownRevisions[index]]) : []);
  for (const row of rows) {
    if (row.active && !row.ended && known.get(row.session_id) === row.revision) {
      delete states[row.session_id];
      continue;
    }
    states[row.session_id] = !row.active
      ? { state: 'deactivated' }
      : row.ended
        ? { state: 'ended' }
        : { state: 'active', caller: { id: row.id, email: row.email, name: row.name, role: row.role, revision: row.revision, sessionId: row.session_id } };
  }
  return states;
}
