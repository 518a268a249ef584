import type { EntityManager } from '@mikro-orm/postgresql';
import { executePreparedSql } from '@popug/lib/db/sql';
import { isUuid } from '@popug/lib/ids';
import type { UserReference } from '@popug/lib/replication/user-copies';
import type { TransactionKind } from '../entities/AccountTransaction';

/** A tracker task named by another subgraph: accounting needs its id only. */
export interface TaskMoneyReference {
  id: string;
}

export interface TaskMoneyMoveView {
  kind: TransactionKind;
  amount: number;
  user: UserReference;
  at: string;
  businessDay: string;
}

/** Whose money a caller may see: their own account's, or every account's (account:view_all). */
export interface MoneyViewer {
  id: string;
  canViewOwn: boolean;
  canViewAll: boolean;
}

interface MoveRow {
  kind: TransactionKind;
  amount: string;
  user_id: string;
  at: string;
  business_day: string;
}

const HISTORY_COLUMNS = `kind, amount, user_id,
  to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as at, business_day::text as business_day`;

/**
 * A task's fees and reward, oldest first, as the audit logs hold them — only the rows the
 * viewer may see in an audit log: everyone's with account:view_all, else their own. The
 * tracker decides who may open the task; this never shows more money than the audit logs.
 */
export async function taskMoneyHistory(em: EntityManager, taskId: string, viewer: MoneyViewer): Promise<TaskMoneyMoveView[]> {
  if (!isUuid(taskId) || !(viewer.canViewAll || viewer.canViewOwn)) return [];
  const rows = viewer.canViewAll
    ? await executePreparedSql<MoveRow>(em, `select ${HISTORY_COLUMNS} from transactions where task_id = ?::uuid order by created_at, id`, [taskId])
    : await executePreparedSql<MoveRow>(
        em,
        `select ${HISTORY_COLUMNS} from transactions where task_id = ?::uuid and user_id = ?::uuid order by created_at, id`,
        [taskId, viewer.id],
      );
  return rows.map((row) => ({
    kind: row.kind,
    amount: Number(row.amount),
    user: { id: row.user_id },
    at: row.at,
    businessDay: row.business_day,
  }));
}
