import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException, type EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '@popug/lib/errors';
import type { Caller } from '@popug/lib/identity';
import { appendToOutbox } from '@popug/lib/replication/outbox';
import { OPEN_JIRA_ID_UNIQUE, Task } from '../entities/Task';
import { pickRandomReceiver } from './receiver-pool';
import { taskAssigned, taskCreated } from './task-events';
import { parseNewTask, type NewTaskInput } from './task-input';
import { drawPrices } from './task-prices';

export interface CreateTaskArgs {
  title: string;
  description: string;
  jiraId?: string | null;
}

/**
 * Validates, draws the prices once, hands the task to a random receiver and records
 * task.created and task.assigned in the same transaction; with nobody to receive it,
 * BAD_USER_INPUT and nothing is stored; so too with a jira id already on an open task
 * (BAD_USER_INPUT on jiraId), decided by the partial unique index, so a race cannot pass it.
 */
export async function createTask(em: EntityManager, creator: Caller, args: CreateTaskArgs): Promise<Task> {
  const input = parseNewTask(args);
  try {
    return await insertTask(em, creator, input);
  } catch (error) {
    // Two creates racing with one jira id: the index lets one in, the other stored nothing.
    if (error instanceof UniqueConstraintViolationException && (error as { constraint?: string }).constraint === OPEN_JIRA_ID_UNIQUE) {
      throw jiraIdTaken(input.jiraId);
    }
    throw error;
  }
}

const jiraIdTaken = (jiraId: string | null) =>
  badInput(`Jira id: ${jiraId ?? ''} is already on an open task; complete that one first or use another id`, 'jiraId');

async function insertTask(em: EntityManager, creator: Caller, input: NewTaskInput): Promise<Task> {
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
