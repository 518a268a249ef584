import type { EntityManager, MikroORM } from '@mikro-orm/postgresql';
import type { ChangeNotice, ChangeStream } from '@popug/lib/change-stream';
import type { ShieldRule } from '@popug/lib/access/rule-tree';
import { executePreparedSql } from '@popug/lib/db/sql';
import { requireCaller, type Caller } from '@popug/lib/identity';
import type { Logger } from '@popug/lib/logger';
import { Batcher, stillAdmitted } from '@popug/lib/subgraph/live-feed';
import { eventsMissed, LiveStream } from '@popug/lib/subgraph/live-stream';
import type { TrackerContext } from '../context';
import type { Task } from '../entities/Task';
import { takenFrom, viewerOf, type TaskViewer } from './task-access';
import { selectTasks } from './task-rows';

/** The outbox rows that say a task changed: created, assigned (at creation or by a shuffle), completed. */
const TASK_EVENTS: ReadonlySet<string> = new Set(['task.created', 'task.assigned', 'task.completed']);

/** Tasks read per statement: a 100 000-task shuffle is read in 100 of them, subscribers served between. */
const CHUNK = 1_000;

/** A changed task, by its id, or by its outbox row when the notification came without its payload (too long). */
type TaskChange = { taskId: string } | { eventId: string };

interface TaskSubscriber {
  context: TrackerContext;
  caller: Caller;
  /** The open tasks assigned to the caller, as last seen: a change moving one away is theirs to hear. */
  owned: Set<string>;
  stream: LiveStream<Task>;
}

export interface TaskFeedOptions {
  /** taskUpdated's rule (permissions.ts), checked again before every delivery. */
  rule: ShieldRule;
  queueLimit: number;
  logger: Logger;
}

/**
 * taskUpdated for every subscriber of this process, from tracker's own outbox notifications
 * (lib/change-stream.ts): the changed tasks of a burst read with one statement per chunk,
 * then each subscriber sent what it may see — with task:view_all every task, otherwise the
 * tasks assigned to the caller and those just taken from them (with their new assignee).
 * Several notifications of one task in one batch (task.created and task.assigned of a
 * createTask) make one event: the task as it is now.
 */
export class TaskFeed {
  private readonly subscribers = new Set<TaskSubscriber>();
  private readonly batcher: Batcher<TaskChange>;
  private readonly stopListening: () => void;

  constructor(
    private readonly orm: MikroORM,
    private readonly changes: ChangeStream,
    private readonly options: TaskFeedOptions,
  ) {
    this.batcher = new Batcher((batch) => this.deliver(batch), { chunk: CHUNK, onError: (error) => this.failed(error) });
    this.stopListening = changes.on((notice) => this.hear(notice));
  }

  async subscribe(context: TrackerContext): Promise<LiveStream<Task>> {
    const caller = requireCaller(context.caller);
    await this.changes.start();
    const subscriber: TaskSubscriber = { context, caller, owned: new Set(), stream: new LiveStream(this.options.queueLimit, () => this.subscribers.delete(subscriber)) };
    // Listening before the caller's tasks are read: a change committed meanwhile is heard, not lost.
    this.subscribers.add(subscriber);
    const rows = await executePreparedSql<{ id: string }>(context.em, `select id from tasks where assignee_id = ? and status = 'OPEN'`, [caller.id]);
    for (const row of rows) subscriber.owned.add(row.id);
    return subscriber.stream;
  }

  /** SIGTERM: the sockets are closed first; this only stops listening. */
  close(): void {
    this.stopListening();
    for (const subscriber of this.subscribers) subscriber.stream.end();
  }

  private hear(notice: ChangeNotice): void {
    if (notice.kind === 'gap') return this.endAll();
    if (notice.kind !== 'outbox' || !TASK_EVENTS.has(notice.change.type) || this.subscribers.size === 0) return;
    // Too long to travel whole, the notification still names its task (its subject): no outbox read, which could come too late.
    const taskId = (notice.change.payload as { taskId?: unknown } | undefined)?.taskId ?? notice.change.subject;
    this.batcher.add(typeof taskId === 'string' ? { taskId } : { eventId: notice.change.id });
  }

  private async deliver(batch: TaskChange[]): Promise<void> {
    if (this.subscribers.size === 0) return;
    const em = this.orm.em.fork();
    const eventIds = batch.flatMap((change) => ('eventId' in change ? [change.eventId] : []));
    const named = eventIds.length > 0 ? await taskIdsOfEvents(em, eventIds) : [];
    const taskIds = [...new Set([...batch.flatMap((change) => ('taskId' in change ? [change.taskId] : [])), ...named])];
    const tasks = await selectTasks(em, 'where id = any(?::uuid[])', [taskIds]);
    // An announced row the replicator collected before it was read: which task it named is lost.
    if (named.length < eventIds.length) this.endAll();
    if (tasks.length === 0) return;
    for (const subscriber of await stillAdmitted(em, this.options.rule, this.subscribers)) {
      const viewer = viewerOf(subscriber.caller, subscriber.context.permissions);
      for (const task of tasks) offer(subscriber, viewer, task);
    }
  }

  /** A read failed: what the batch named is lost to every subscriber, which is told so. */
  private failed(error: unknown): void {
    this.options.logger.error({ err: error }, 'taskUpdated: reading changed tasks failed');
    this.endAll();
  }

  private endAll(): void {
    for (const subscriber of this.subscribers) subscriber.stream.end(eventsMissed());
  }
}

/**
 * The tasks named by outbox rows announced without their payload (too long for a
 * notification: a description near its 10 000 characters). A row the replicator has
 * collected meanwhile is gone, and missing from the answer.
 */
async function taskIdsOfEvents(em: EntityManager, eventIds: readonly string[]): Promise<string[]> {
  const rows = await executePreparedSql<{ task_id: string }>(em, `select payload->>'taskId' as task_id from outbox where event_id = any(?::uuid[])`, [eventIds]);
  return rows.map((row) => row.task_id);
}

function offer(subscriber: TaskSubscriber, viewer: TaskViewer, task: Task): void {
  const { owned, stream } = subscriber;
  if (viewer.canViewAll || task.assigneeId === viewer.id) stream.push(task);
  else if (owned.has(task.id)) stream.push(takenFrom(task, viewer.id));
  if (task.assigneeId === viewer.id && task.status === 'OPEN') owned.add(task.id);
  else owned.delete(task.id);
}
