import { useRef, useState } from 'react';
import { useLive, useMutation, useReloadOn } from '../api/hooks';
import { Empty, ErrorMessage, QueryView } from '../components/status';
import { CompleteTaskDocument, MyTaskListDocument, TaskUpdatesDocument, type MyTaskListQuery, type TaskFieldsFragment } from '../generated/graphql';
import { useListParams } from './list-params';
import { ListControls } from './ListControls';
import { ListTotals, ShowMore } from './ShowMore';
import { applyToMyTasks } from './task-updates';
import { TaskList } from './TaskList';
import { usePagedList, type ListShape } from './use-paged-list';

const MY_TASKS: ListShape<MyTaskListQuery> = { tasksOf: (answer) => answer.myTasks, withTasks: (answer, myTasks) => ({ ...answer, myTasks }) };

/** Notices of tasks taken away kept on screen at most. */
const TAKEN_SHOWN = 3;

interface MyTasksProps {
  version: number;
  viewerId: string;
  onChanged(): void;
  /** Whether the caller may follow tasks live (TaskUpdates). */
  live: boolean;
}

/**
 * The caller's own tasks, open and done, with "Complete" on the open ones: searched, sorted,
 * a page at a time with the totals; the tab, search and order are in the address. Live: a
 * task assigned to the caller appears, and one given to someone else (a shuffle) disappears
 * with a notice saying where it went.
 */
export function MyTasks({ version, viewerId, onChanged, live }: MyTasksProps) {
  const [params, setParams] = useListParams('my-');
  const tab = params.status ?? 'OPEN';
  const view = { status: tab, search: params.search || null, sort: params.sort };
  // Another tab, search or order starts from the first page again.
  const tasks = usePagedList(MyTaskListDocument, view, MY_TASKS);
  const complete = useMutation(CompleteTaskDocument);
  const [completing, setCompleting] = useState<string>();
  const [completed, setCompleted] = useState<string>();
  const [taken, setTaken] = useState<TaskFieldsFragment[]>([]);
  const { update } = tasks;

  // The list as last rendered, to tell whether an event takes a task the caller saw.
  const shown = useRef(tasks.data?.myTasks);
  shown.current = tasks.data?.myTasks;

  useLive(
    TaskUpdatesDocument,
    {},
    ({ taskUpdated }) => {
      update((current) => {
        const allLoaded = current.myTasks.length >= (tab === 'OPEN' ? current.open : current.done);
        const change = applyToMyTasks(current.myTasks, taskUpdated, viewerId, view, allLoaded);
        // The other tab's count follows from what the event says of the task now.
        return { ...current, ...countsAfter(current, taskUpdated, viewerId, change.delta, tab), myTasks: change.tasks };
      });
      const { taken: gone } = applyToMyTasks(shown.current ?? [], taskUpdated, viewerId, view);
      if (gone) setTaken((current) => [gone, ...current.filter((task) => task.id !== gone.id)].slice(0, TAKEN_SHOWN));
    },
    live && tasks.error?.code !== 'FORBIDDEN',
  );

  useReloadOn(version, tasks);

  const completeTask = async (task: TaskFieldsFragment) => {
    setCompleting(task.id);
    setCompleted(undefined);
    const result = await complete.run({ id: task.id });
    setCompleting(undefined);
    if (!result) return;
    setCompleted(result.completeTask.title);
    onChanged();
  };

  if (tasks.error?.code === 'FORBIDDEN') return null;
  return (
    <section className="panel" aria-labelledby="my-tasks-title">
      <h2 id="my-tasks-title">My tasks</h2>
      <QueryView query={tasks} loadingLabel="Loading your tasks…">
        {({ myTasks: shown, open, done }) => {
          const total = tab === 'OPEN' ? open : done;
          return (
            <>
              <div className="segmented" role="group" aria-label="Show tasks">
                <button type="button" aria-pressed={tab === 'OPEN'} onClick={() => setParams({ status: null })}>
                  Open ({open})
                </button>
                <button type="button" aria-pressed={tab === 'DONE'} onClick={() => setParams({ status: 'DONE' })}>
                  Done ({done})
                </button>
              </div>
              <div className="filters">
                <ListControls params={params} onChange={setParams} listName="my tasks" />
              </div>
              {taken.length > 0 && (
                <div className="notice" role="status">
                  <ul className="plain">
                    {taken.map((task) => (
                      <li key={task.id}>
                        “{task.title}” was reassigned to {task.assignee.name}.
                      </li>
                    ))}
                  </ul>
                  <button type="button" className="link-button" onClick={() => setTaken([])}>
                    Dismiss
                  </button>
                </div>
              )}
              {complete.error && <ErrorMessage error={complete.error} />}
              {completed && (
                <p className="notice success" role="status">
                  Completed “{completed}”. Its reward is on its way to your account.
                </p>
              )}
              {shown.length === 0 ? (
                <Empty>
                  {params.search
                    ? `None of your ${tab === 'OPEN' ? 'open' : 'done'} tasks matches “${params.search}”.`
                    : tab === 'OPEN'
                      ? 'Nothing open on you right now.'
                      : 'You have not completed any task yet.'}
                </Empty>
              ) : (
                <>
                  <ListTotals shown={shown.length} total={total} noun={tab === 'OPEN' ? 'open task' : 'done task'} sort={params.sort} updating={tasks.loading} />
                  <TaskList tasks={shown} viewerId={viewerId} onComplete={completeTask} completingId={completing} />
                  <ShowMore shown={shown.length} total={total} loading={tasks.loading || tasks.loadingMore} error={tasks.moreError} onMore={tasks.showMore} />
                </>
              )}
            </>
          );
        }}
      </QueryView>
    </section>
  );
}

interface MyCounts {
  myTasks: readonly TaskFieldsFragment[];
  open: number;
  done: number;
}

/**
 * The tab counts after a live event: the shown tab's moves by the list's delta; the other
 * tab's gains a shown task of the caller's that changed status (a completion moves one from
 * Open to Done). Anything else the next reload counts.
 */
function countsAfter(current: MyCounts, task: TaskFieldsFragment, viewerId: string, delta: number, tab: 'OPEN' | 'DONE'): Pick<MyCounts, 'open' | 'done'> {
  const wasShown = current.myTasks.some((candidate) => candidate.id === task.id);
  const joinsOther = task.assignee.id === viewerId && task.status !== tab && wasShown ? 1 : 0;
  return {
    open: current.open + (tab === 'OPEN' ? delta : joinsOther),
    done: current.done + (tab === 'DONE' ? delta : joinsOther),
  };
}
