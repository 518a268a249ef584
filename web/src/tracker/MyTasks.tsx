import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { Empty, ErrorMessage, QueryView } from '../components/status';
import { CompleteTaskDocument, MyTasksDocument, type TaskFieldsFragment } from '../generated/graphql';
import { TaskList } from './TaskList';

type Tab = 'OPEN' | 'DONE';

/** The caller's own tasks, open and done, with "Complete" on the open ones. */
export function MyTasks({ version, viewerId, onChanged }: { version: number; viewerId: string; onChanged(): void }) {
  const tasks = useQuery(MyTasksDocument, {});
  const complete = useMutation(CompleteTaskDocument);
  const [tab, setTab] = useState<Tab>('OPEN');
  const [completing, setCompleting] = useState<string>();
  const [completed, setCompleted] = useState<string>();
  const { reload } = tasks;

  useEffect(() => {
    if (version > 0) reload();
  }, [version, reload]);

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
