import { useRef, useState } from 'react';
import { useLive, useMutation, useQuery, useReloadOn } from '../api/hooks';
import { Empty, ErrorMessage, QueryView } from '../components/status';
import { CompleteTaskDocument, MyTasksDocument, TaskUpdatesDocument, type TaskFieldsFragment } from '../generated/graphql';
import { applyToMyTasks } from './task-updates';
import { TaskList } from './TaskList';

type Tab = 'OPEN' | 'DONE';

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
 * The caller's own tasks, open and done, with "Complete" on the open ones. Live: a task
 * assigned to the caller appears, and one given to someone else (a shuffle) disappears
 * with a notice saying where it went.
 */
export function MyTasks({ version, viewerId, onChanged, live }: MyTasksProps) {
  const tasks = useQuery(MyTasksDocument, {});
  const complete = useMutation(CompleteTaskDocument);
  const [tab, setTab] = useState<Tab>('OPEN');
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
      update(({ myTasks }) => ({ myTasks: applyToMyTasks(myTasks, taskUpdated, viewerId).tasks }));
      const { taken: gone } = applyToMyTasks(shown.current ?? [], taskUpdated, viewerId);
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
        {({ myTasks }) => {
          const open = myTasks.filter((task) => task.status === 'OPEN');
          const done = myTasks.filter((task) => task.status === 'DONE');
          const shown = tab === 'OPEN' ? open : done;
          return (
            <>
              <div className="segmented" role="group" aria-label="Show tasks">
                <button type="button" aria-pressed={tab === 'OPEN'} onClick={() => setTab('OPEN')}>
                  Open ({open.length})
                </button>
                <button type="button" aria-pressed={tab === 'DONE'} onClick={() => setTab('DONE')}>
                  Done ({done.length})
                </button>
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
                <Empty>{tab === 'OPEN' ? 'Nothing open on you right now.' : 'You have not completed any task yet.'}</Empty>
              ) : (
                <TaskList tasks={shown} viewerId={viewerId} onComplete={completeTask} completingId={completing} />
              )}
            </>
          );
        }}
      </QueryView>
    </section>
  );
}
