import { useQuery } from '../api/hooks';
import { Money } from '../components/Money';
import { ErrorMessage, Loading } from '../components/status';
import { useBusinessClock } from '../business-clock';
import type { TaskDetailsQuery } from '../generated/graphql';
import { TaskDetailsDocument } from '../generated/graphql';
import { Link } from '../router';
import { StatusBadge, TaskFacts } from '../tracker/TaskList';
import '../tracker/task-list.css';

type Details = NonNullable<TaskDetailsQuery['task']>;

/**
 * One task's page (/tracker/tasks/<id>): its whole description and its history — created,
 * each assignment with who paid which fee, the completion with its reward. The fees and
 * rewards are accounting's rows, each caller seeing those their audit logs show.
 */
export function TaskPage({ id }: { id: string }) {
  const details = useQuery(TaskDetailsDocument, { id });
  const back = (
    <p>
      <Link to="/tracker">← Task tracker</Link>
    </p>
  );
  if (details.error) {
    const missing = details.error.code === 'NOT_FOUND';
    const refused = details.error.code === 'FORBIDDEN';
    return (
      <section className="panel" aria-labelledby="task-problem">
        {back}
        <h1 id="task-problem">{missing ? 'No such task' : refused ? 'No access to this task' : 'The task did not load'}</h1>
        {missing || refused ? <p>{details.error.message}</p> : <ErrorMessage error={details.error} onRetry={details.reload} />}
      </section>
    );
  }
  const task = details.data?.task;
  if (!task) return details.loading ? <Loading label="Loading the task…" /> : null;
  return (
    <>
      {back}
      <section className="panel task-page" aria-labelledby="task-title">
        <div className="task-head">
          <h1 id="task-title">
            {task.jiraId && <span className="jira">{task.jiraId}</span>} {task.title}
          </h1>
          <StatusBadge task={task} />
        </div>
        <TaskFacts task={task} showAssignee />
        <h2>Description</h2>
        <p className="task-page-description">{task.description}</p>
      </section>
      <section className="panel" aria-labelledby="task-history-title">
        <h2 id="task-history-title">History</h2>
        <TaskHistory task={task} />
      </section>
    </>
  );
}

function TaskHistory({ task }: { task: Details }) {
  const { formatTime } = useBusinessClock();
  const rewarded = task.moneyHistory.some((move) => move.kind === 'COMPLETION_REWARD');
  const assignments = task.moneyHistory.filter((move) => move.kind === 'ASSIGN_FEE').length;
  return (
    <>
      <ol className="task-history">
        <li>
          <strong>Created</strong>
          <time dateTime={task.createdAt}>{formatTime(task.createdAt)}</time>
        </li>
        {task.moneyHistory.map((move) =>
          move.kind === 'ASSIGN_FEE' ? (
            <li key={`${move.kind}-${move.at}-${move.user.id}`}>
              <strong>Assigned to {move.user.name}</strong>
              <span>
                fee <Money cents={-move.amount} />
              </span>
              <time dateTime={move.at}>{formatTime(move.at)}</time>
            </li>
          ) : (
            <li key={`${move.kind}-${move.at}`}>
              <strong>Completed by {move.user.name}</strong>
              <span>
                reward <Money cents={move.amount} />
              </span>
              <time dateTime={move.at}>{formatTime(move.at)}</time>
            </li>
          ),
        )}
        {task.completedAt && !rewarded && (
          <li>
            <strong>Completed by {task.assignee.name}</strong>
            <time dateTime={task.completedAt}>{formatTime(task.completedAt)}</time>
          </li>
        )}
      </ol>
      {assignments === 0 && (
        <p className="muted small">
          Now assigned to {task.assignee.name}. Who paid which fee shows to accountants and to each popug for their own account.
        </p>
      )}
    </>
  );
}
