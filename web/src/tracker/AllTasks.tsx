import { useId } from 'react';
import { useLive, useReloadOn } from '../api/hooks';
import { Empty, QueryView } from '../components/status';
import { AllTaskListDocument, TaskUpdatesDocument, type AllTaskListQuery } from '../generated/graphql';
import { AssigneeFilter } from './AssigneeFilter';
import { useListParams } from './list-params';
import { ListControls } from './ListControls';
import { ShuffleButton } from './ShuffleButton';
import { ListTotals, ShowMore } from './ShowMore';
import { applyToPage, matchesView } from './task-updates';
import { TaskList } from './TaskList';
import { usePagedList, type ListShape } from './use-paged-list';

const ALL_TASKS: ListShape<AllTaskListQuery> = { tasksOf: (answer) => answer.tasks, withTasks: (answer, tasks) => ({ ...answer, tasks }) };

interface AllTasksProps {
  version: number;
  viewerId: string;
  onChanged(): void;
  /** Whether the caller may follow every task live (TaskUpdates with task:view_all). */
  live: boolean;
}

/**
 * Everyone's tasks (task:view_all): searched, sorted, filtered by status and by any popug of
 * the directory, a page at a time with the total, following changes live. The search, order
 * and filters are in the address. Hidden when FORBIDDEN.
 */
export function AllTasks({ version, viewerId, onChanged, live }: AllTasksProps) {
  const [params, setParams] = useListParams('');
  const filter = { status: params.status, assigneeId: params.assigneeId, search: params.search || null, sort: params.sort };
  // Another search, order or filter starts from the first page again.
  const tasks = usePagedList(AllTaskListDocument, filter, ALL_TASKS);
  useLive(
    TaskUpdatesDocument,
    {},
    ({ taskUpdated }) =>
      tasks.update((current) => {
        const matches = matchesView(taskUpdated, filter) && (filter.assigneeId === null || taskUpdated.assignee.id === filter.assigneeId);
        const change = applyToPage(current.tasks, taskUpdated, matches, filter, current.tasks.length >= current.taskCount);
        return { tasks: change.tasks, taskCount: current.taskCount + change.delta };
      }),
    live && tasks.error?.code !== 'FORBIDDEN',
  );
  const statusId = useId();

  useReloadOn(version, tasks);

  if (tasks.error?.code === 'FORBIDDEN') return null;
  const knownName = tasks.data?.tasks.find((task) => task.assignee.id === params.assigneeId)?.assignee.name;

  return (
    <section className="panel" aria-labelledby="all-tasks-title">
      <div className="section-head">
        <h2 id="all-tasks-title">All tasks</h2>
        <ShuffleButton onShuffled={onChanged} />
      </div>
      <div className="filters">
        <ListControls params={params} onChange={setParams} listName="all tasks" />
        <div className="field">
          <label htmlFor={statusId}>Status</label>
          <select
            id={statusId}
            value={params.status ?? ''}
            onChange={(event) => setParams({ status: event.target.value === 'OPEN' || event.target.value === 'DONE' ? event.target.value : null })}
          >
            <option value="">Any status</option>
            <option value="OPEN">Open</option>
            <option value="DONE">Done</option>
          </select>
        </div>
        <AssigneeFilter assigneeId={params.assigneeId} knownName={knownName} listShown={tasks.data !== undefined} onChange={(assigneeId) => setParams({ assigneeId })} />
      </div>
      <QueryView query={tasks} loadingLabel="Loading tasks…">
        {({ tasks: list, taskCount }) =>
          list.length === 0 ? (
            <Empty>No tasks match these filters.</Empty>
          ) : (
            <>
              <ListTotals shown={list.length} total={taskCount} noun="task" sort={params.sort} updating={tasks.loading} />
              <TaskList tasks={list} viewerId={viewerId} showAssignee />
              <ShowMore shown={list.length} total={taskCount} loading={tasks.loading || tasks.loadingMore} error={tasks.moreError} onMore={tasks.showMore} />
            </>
          )
        }
      </QueryView>
    </section>
  );
}
