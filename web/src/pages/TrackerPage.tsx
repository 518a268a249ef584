import { useCallback, useState } from 'react';
import { useCapabilities } from '../access';
import { useUser } from '../session-context';
import { AllTasks } from '../tracker/AllTasks';
import { CreateTaskButton } from '../tracker/CreateTaskButton';
import { MyTasks } from '../tracker/MyTasks';

/** My tasks first; creating a task is a button and a dialog, shown to those who may (trackerAccess.createTask). */
export function TrackerPage() {
  const user = useUser();
  // Bumped after a create, complete or shuffle: every list reloads.
  const [version, setVersion] = useState(0);
  const changed = useCallback(() => setVersion((value) => value + 1), []);
  const viewerId = user?.id ?? '';
  const can = useCapabilities();

  return (
    <>
      <div className="section-head">
        <h1>Task tracker</h1>
        {can.createTask && <CreateTaskButton onCreated={changed} />}
      </div>
      {/* Both lists follow one TaskUpdates stream (../api/live.ts shares it). Each asks only when the caller may read it. */}
      {can.ownTasks && <MyTasks version={version} viewerId={viewerId} onChanged={changed} live />}
      {can.allTasks && <AllTasks version={version} viewerId={viewerId} onChanged={changed} live />}
    </>
  );
}
