import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Caller } from '@popug/lib/identity';
import { appendToOutbox } from '@popug/lib/replication/outbox';
import { Task } from '../entities/Task';
import { pickRandomReceiver } from './receiver-pool';
import { taskAssigned, taskCreated } from './task-events';
import { parseNewTask } from './task-input';
import { drawPrices } from './task-prices';

export interface CreateTaskArgs {
  title: string;
  description: string;
  jiraId?: string | null;
}

/**
 * Validates, draws the prices once, hands the task to a random receiver and records
 * task.created and task.assigned in the same transaction; with nobody to receive it,
 * BAD_USER_INPUT and nothing is stored.
 */
export async function createTask(em: EntityManager, creator: Caller, args: CreateTaskArgs): Promise<Task> {
  const input = parseNewTask(args);
  const prices = drawPrices();
  return em.transactional(async (tx) => {
    const assigneeId = await pickRandomReceiver(tx);
    const createdAt = new Date();
    const task = tx.create(Task, {
      id: randomUUID(),
      ...input,
      ...prices,
      status: 'OPEN',
      assigneeId,
      createdBy: creator.id,
      createdAt,
      completedAt: null,
    });
    await tx.flush();
    await appendToOutbox(tx, [taskCreated(task), taskAssigned(task, 'created', createdAt)]);
    return task;
  });
}
