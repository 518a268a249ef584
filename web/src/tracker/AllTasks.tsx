import { useEffect, useId, useState } from 'react';
import { useLive, useQuery, useReloadOn } from '../api/hooks';
import { Empty, QueryView } from '../components/status';
import { TaskUpdatesDocument, TasksDocument, type TaskStatus } from '../generated/graphql';
import { ShuffleButton } from './ShuffleButton';
import { applyToAllTasks } from './task-updates';
import { TaskList } from './TaskList';

const PAGE = 50;
const PAGE_MAX = 500;

interface Assignee {
  id: string;
  name: string;
}

interface AllTasksProps {
  version: number;
  viewerId: string;
  onChanged(): void;
  /** Whether the caller may follow every task live (TaskUpdates with task:view_all). */
  live: boolean;
}

/** Everyone's tasks (task:view_all), filterable by status and assignee, following changes live. Hidden when FORBIDDEN. */
export function AllTasks({ version, viewerId, onChanged, live }: AllTasksProps) {
  const [status, setStatus] = useState<TaskStatus | ''>('');
  const [assigneeId, setAssigneeId] = useState('');
  const [limit, setLimit] = useState(PAGE);
  const filter = { status: status || null, assigneeId: assigneeId || null, first: limit };
  const tasks = useQuery(TasksDocument, filter);
  useLive(
    TaskUpdatesDocument,
    {},
    ({ taskUpdated }) => tasks.update((current) => ({ tasks: applyToAllTasks(current.tasks, taskUpdated, filter) })),
    live && tasks.error?.code !== 'FORBIDDEN',
  );
  // The filter offers every assignee seen so far (the directory of all users needs user:manage).
  const [assignees, setAssignees] = useState<Map<string, Assignee>>(new Map());
  const statusId = useId();
  const assigneeSelectId = useId();

  useReloadOn(version, tasks);

  useEffect(() => {
    const seen = tasks.data?.tasks.map((task) => task.assignee) ?? [];
    setAssignees((current) => {
      if (seen.every((assignee) => current.has(assignee.id))) return current;
      const next = new Map(current);
      for (const { id, name } of seen) next.set(id, { id, name });
      return next;
    });
  }, [tasks.data]);

  if (tasks.error?.code === 'FORBIDDEN') return null;
  const sortedAssignees = [...assignees.values()].sort((a, b) => a.name.localeCompare(b.name));

  return (
    <section className="panel" aria-labelledby="all-tasks-title">
      <div className="section-head">
        <h2 id="all-tasks-title">All tasks</h2>
        <ShuffleButton onShuffled={onChanged} />
      </div>
      <div className="filters">
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={status}
            onChange={(event) => {
              setStatus(event.target.value === 'OPEN' || event.target.value === 'DONE' ? event.target.value : '');
              setLimit(PAGE);
            }}
          >
            <option value="">Any status</option>
            <option value="OPEN">Open</option>
            <option value="DONE">Done</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={assigneeSelectId}>Assignee</label>
          <select
            id={assigneeSelectId}
            value={assigneeId}
            onChange={(event) => {
              setAssigneeId(event.target.value);
              setLimit(PAGE);
            }}
          >
            <option value="">Anyone</option>
            {sortedAssignees.map((assignee) => (
              <option key={assignee.id} value={assignee.id}>
                {assignee.name}
              </option>
            ))}
          </select>
        </div>
      </div>
      <QueryView query={tasks} loadingLabel="Loading tasks…">
        {({ tasks: list }) =>
          list.length === 0 ? (
            <Empty>No tasks match these filters.</Empty>
          ) : (
            <>
              <p className="muted small" role="status">
                Showing {list.length} {list.length === 1 ? 'task' : 'tasks'}, newest first{tasks.loading ? ' (updating…)' : ''}.
              </p>
              <TaskList tasks={list} viewerId={viewerId} showAssignee />
              {list.length === limit && limit < PAGE_MAX && (
                <button type="button" className="secondary" onClick={() => setLimit((value) => Math.min(value + PAGE, PAGE_MAX))}>
                  Show more
                </button>
              )}
            </>
          )
        }
      </QueryView>
    </section>
  );
}
