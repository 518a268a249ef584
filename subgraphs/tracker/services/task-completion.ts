import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput, forbidden } from '@popug/lib/errors';
import type { Caller } from '@popug/lib/identity';
import { appendToOutbox } from '@popug/lib/replication/outbox';
import { Task } from '../entities/Task';
import { findTaskOrFail } from './task-directory';
import { taskCompleted } from './task-events';
import { parseTaskIdOrFail } from './task-input';

/** A shuffle may hand the task back between the UPDATE and the re-read; a few tries settle it. */
const MAX_ATTEMPTS = 3;

/**
 * Closes an open task of the caller's, once, and records task.completed (with the reward)
 * in the same transaction. The check and the change are one conditional UPDATE: under
 * READ COMMITTED, if a shuffle holds the row the UPDATE waits for it and re-checks the
 * committed row, so it matches only when the task is still open and (still, or now) the
 * caller's; a shuffle that comes second waits for this one and skips the DONE row.
 */
export async function completeTask(em: EntityManager, caller: Caller, rawId: string): Promise<Task> {
  const id = parseTaskIdOrFail(rawId);
  return em.transactional(async (tx) => {
    for (let attempt = 1; ; attempt++) {
      const completedAt = new Date();
      const rows = await tx.execute<Record<string, unknown>[]>(
        `update tasks set status = 'DONE', completed_at = ?
          where id = ? and status = 'OPEN' and assignee_id = ?
          returning *`,
        [completedAt, id, caller.id],
      );
      const row = rows[0];
      if (row) {
        const task = tx.map(Task, row);
        await appendToOutbox(tx, [taskCompleted({ ...task, completedAt })]);
        return task;
      }
      // Nothing matched: say why. A task that is open and the caller's by now was handed
      // back to them by a shuffle that committed after the UPDATE looked: try again.
      const task = await findTaskOrFail(tx, rawId);
      if (task.assigneeId !== caller.id) throw forbidden('Only the assignee can complete this task, and it is not assigned to you');
      if (task.status === 'DONE') throw badInput('This task is already done', 'id');
      if (attempt >= MAX_ATTEMPTS) throw new Error(`task ${id} stayed open and the caller's, yet no UPDATE matched it`);
      tx.clear();
    }
  });
}
