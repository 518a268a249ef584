import type { EntityManager } from '@mikro-orm/postgresql';
import { executeSql } from '@popug/lib/db/sql';
import { centsFrom } from '@popug/lib/money';
import type { ReplicaIncident, ReplicaIncidents } from '@popug/lib/replication/replica';
import { formatCents } from './money';
import { taskLabel } from './task-ledger';

interface DuplicateRow {
  duplicate_version: string;
  first_version: string;
  task_id: string;
  user_id: string;
  reward: string;
  task_title: string | null;
  task_jira_id: string | null;
}

function incidentOf(row: DuplicateRow): ReplicaIncident {
  const task = row.task_title === null ? `task ${row.task_id}` : `task ${taskLabel(row.task_title, row.task_jira_id)} (${row.task_id})`;
  return {
    key: row.duplicate_version,
    subject: 'A task was completed twice',
    text:
      `The master log holds a second completion of ${task}: log version ${row.duplicate_version}, by popug ${row.user_id}, ` +
      `after the first at log version ${row.first_version}. Accounting booked the reward once, at the first completion; ` +
      `the second (${formatCents(centsFrom(row.reward))}) was not booked.\n\n` +
      'A tracker that completes a task again was most likely restored from a backup; see docs/backup-and-restore.md (README, "Backup and restore").',
    details: { taskId: row.task_id, userId: row.user_id, firstVersion: row.first_version, duplicateVersion: row.duplicate_version },
  };
}

/**
 * Second completions of a task, recorded by recordTaskMoney (task-ledger.ts) when it skips
 * their reward, as the replicator reads and marks them for telling the admins.
 */
export const duplicateCompletions: ReplicaIncidents = {
  async unreported(em: EntityManager, limit: number) {
    const rows = await executeSql<DuplicateRow>(
      em,
      `select d.duplicate_version::text, d.first_version::text, d.task_id, d.user_id, d.reward::text, t.task_title, t.task_jira_id
         from duplicate_completions d left join transactions t on t.source_version = d.first_version
        where d.reported_at is null
        order by d.detected_at, d.duplicate_version limit ?`,
      [limit],
    );
    return rows.map(incidentOf);
  },
  async markReported(em: EntityManager, keys: readonly string[]) {
    await executeSql(em, 'update duplicate_completions set reported_at = now() where duplicate_version = any(?::bigint[]) and reported_at is null', [
      `{${keys.join(',')}}`,
    ]);
  },
};
