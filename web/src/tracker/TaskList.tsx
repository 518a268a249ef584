import type { ReactNode } from 'react';
import { Money } from '../components/Money';
import { useBusinessClock } from '../business-clock';
import type { TaskFieldsFragment } from '../generated/graphql';
import { Link } from '../router';
import { taskPath } from './task-path';
import './task-list.css';

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
                {task.jiraId && <span className="jira">{task.jiraId}</span>} <Link to={taskPath(task.id)}>{task.title}</Link>
              </h3>
              <StatusBadge task={task} />
            </div>
            {/* Cut at three lines (styles.css); the task's page has all of it and its history. */}
            <p className="task-description">{task.description}</p>
            <TaskFacts task={task} showAssignee={showAssignee} />
            <Link className="task-open" to={taskPath(task.id)} aria-label={`Open “${task.title}”: full description and history`}>
              Full description and history →
            </Link>
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

export function StatusBadge({ task }: { task: Pick<TaskFieldsFragment, 'status'> }) {
  return <span className={`status status-${task.status.toLowerCase()}`}>{task.status === 'OPEN' ? 'Open' : 'Done'}</span>;
}

/** A task's assignee (when asked), prices and last date, as its card and its page show them. */
export function TaskFacts({ task, showAssignee }: { task: TaskFieldsFragment; showAssignee: boolean }) {
  const { formatTime } = useBusinessClock();
  return (
    <dl className="task-meta">
      {showAssignee && <Meta term="Assignee">{task.assignee.name}</Meta>}
      <Meta term="Fee">
        <Money cents={task.assignFee} />
      </Meta>
      <Meta term="Reward">
        <Money cents={task.completionReward} />
      </Meta>
      <Meta term={task.completedAt ? 'Done' : 'Created'}>{formatTime(task.completedAt ?? task.createdAt)}</Meta>
    </dl>
  );
}

/** One of a task's details; the div keeps the term beside its value as the list wraps. */
function Meta({ term, children }: { term: string; children: ReactNode }) {
  return (
    <div>
      <dt>{term}</dt>
      <dd>{children}</dd>
    </div>
  );
}
