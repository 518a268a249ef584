import { useCallback, useState } from 'react';
import { useCapabilities } from '../access';
import { useQuery } from '../api/hooks';
import { Loading } from '../components/status';
import { CreateTaskDocument } from '../generated/graphql';
import { useUser } from '../session-context';
import { AllTasks } from '../tracker/AllTasks';
import { MyTasks } from '../tracker/MyTasks';
import { NewTaskForm } from '../tracker/NewTaskForm';

/**
 * Whether the caller may create tasks, asked without creating one: `createTask` with an
 * empty title. Shield refuses a caller without task:create (FORBIDDEN) before the resolver
 * gets to refuse the title (BAD_USER_INPUT), and bad input stores nothing (docs/architecture.md, Error codes).
 */
const CREATE_PERMISSION_PROBE = { title: '', description: '', jiraId: null };

export function TrackerPage() {
  const user = useUser();
  // Bumped after a create, complete or shuffle: every list reloads.
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((value) => value + 1), []);
  const viewerId = user?.id ?? '';
  const createProbe = useQuery(CreateTaskDocument, CREATE_PERMISSION_PROBE, { catchUp: false });
  const can = useCapabilities();

  return (
    <>
      <h1>Task tracker</h1>
      {createProbe.loading ? (
        <Loading label="Checking what you may do…" />
      ) : (
        createProbe.error?.code !== 'FORBIDDEN' && (
          <section className="panel">
            <NewTaskForm onCreated={changed} />
          </section>
        )
      )}
      {/* Both lists follow one TaskUpdates stream (../api/live.ts shares it). */}
      <MyTasks version={version} viewerId={viewerId} onChanged={changed} live={can.ownTasks || can.allTasks} />
      <AllTasks version={version} viewerId={viewerId} onChanged={changed} live={can.allTasks} />
    </>
  );
}
