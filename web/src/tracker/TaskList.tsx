import { Money } from '../components/Money';
import { formatDateTime } from '../format';
import type { TaskFieldsFragment } from '../generated/graphql';

interface TaskListProps {
  tasks: TaskFieldsFragment[];
  /** Who is looking: only the assignee may complete a task. */
  viewerId: string;
  showAssignee?: boolean;
  onComplete?(task: TaskFieldsFragment): void;
  /** The task being completed right now, if any. */
  completingId?: string;
}

export function TaskList({ tasks, viewerId, showAssignee = false, onComplete, completingId }: TaskListProps) {
  return (
    <ul className="tasks">
      {tasks.map((task) => {
        const canComplete = onComplete && task.status === 'OPEN' && task.assignee.id === viewerId;
        return (
          <li key={task.id} className="task">
            <div className="task-head">
              <h3 className="task-title">
                {task.jiraId && <span className="jira">{task.jiraId}</span>} {task.title}
              </h3>
              <span className={`status status-${task.status.toLowerCase()}`}>{task.status === 'OPEN' ? 'Open' : 'Done'}</span>
            </div>
            <p className="task-description">{task.description}</p>
            <dl className="task-meta">
              {showAssignee && (
                <div>
                  <dt>Assignee</dt>
                  <dd>{task.assignee.name}</dd>
                </div>
              )}
              <div>
                <dt>Fee</dt>
                <dd>
                  <Money cents={task.assignFee} />
                </dd>
              </div>
              <div>
                <dt>Reward</dt>
                <dd>
                  <Money cents={task.completionReward} />
                </dd>
              </div>
              <div>
                <dt>{task.completedAt ? 'Done' : 'Created'}</dt>
                <dd>{formatDateTime(task.completedAt ?? task.createdAt)}</dd>
              </div>
            </dl>
            {canComplete && (
              <button
                type="button"
                className="secondary"
                onClick={() => onComplete(task)}
                disabled={completingId !== undefined}
                aria-label={`Complete “${task.title}”`}
              >
                {completingId === task.id ? 'Completing…' : 'Complete'}
              </button>
            )}
          </li>
        );
      })}
    </ul>
  );
}
