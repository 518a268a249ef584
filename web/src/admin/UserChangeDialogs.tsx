import { useQuery } from '../api/hooks';
import { ConfirmDialog } from '../components/ConfirmDialog';
import { plural } from '../format';
import { DeactivationPreviewDocument } from '../generated/graphql';
import { UNDO_WINDOW_MS } from './delayed-commit';
import { powersOf, type GrantsBySubgraph } from './role-powers';

interface Asked {
  user: { id: string; name: string };
  onConfirm(): void;
  onCancel(): void;
  returnFocusTo: HTMLElement | null;
}

const list = (items: readonly string[]) => new Intl.ListFormat('en', { type: 'conjunction' }).format(items);
const undoNote = `You can undo for ${UNDO_WINDOW_MS / 1000} seconds after confirming: nothing is sent before.`;

/** What deactivating does to the popug's open tasks, from tracker (deactivationPreview). */
function OpenTasksOutcome({ userId }: { userId: string }) {
  const preview = useQuery(DeactivationPreviewDocument, { userId });
  if (preview.error) {
    return (
      <p>
        Their open tasks (tracker could not count them: {preview.error.message}) go at once to random active popugs who may receive tasks,
        each debiting its assignment fee from its new assignee, as a shuffle does.
      </p>
    );
  }
  if (!preview.data) return <p>Counting their open tasks…</p>;
  const { openTasks, receivers } = preview.data.deactivationPreview;
  if (openTasks === 0) return <p>They hold no open task.</p>;
  if (receivers === 0) {
    return (
      <p>
        They hold {plural(openTasks, 'open task')}. Nobody else may receive tasks now, so they stay assigned to them, open, until someone can;
        then they move on, each with its assignment fee.
      </p>
    );
  }
  return (
    <p>
      Their {plural(openTasks, 'open task')} go at once to random active popugs who may receive tasks ({plural(receivers, 'popug')}); each
      new assignee is debited the task&apos;s assignment fee, as in a shuffle. Reactivating them later does not bring the tasks back.
    </p>
  );
}

export function DeactivateDialog({ user, onConfirm, onCancel, returnFocusTo }: Asked) {
  return (
    <ConfirmDialog
      id="deactivate-user"
      title={`Deactivate ${user.name}?`}
      confirmLabel={`Deactivate ${user.name}`}
      onConfirm={onConfirm}
      onCancel={onCancel}
      returnFocusTo={returnFocusTo}
    >
      <p>They are signed out everywhere and can no longer sign in.</p>
      <OpenTasksOutcome userId={user.id} />
      <p className="muted small">{undoNote}</p>
    </ConfirmDialog>
  );
}

/** The powers a role change gives and takes, by the permission tables the page holds. */
function PowersChange({ from, to, grants }: { from: string; to: string; grants: GrantsBySubgraph | undefined }) {
  if (!grants) return <p>The permission tables could not be read: check what {to} may do before you confirm.</p>;
  const gained = powersOf(to, grants);
  const lost = powersOf(from, grants).filter((power) => !gained.includes(power));
  return (
    <>
      <p>{gained.length > 0 ? `As ${to} they may ${list(gained)}.` : `${to} may not manage users, permissions or every task.`}</p>
      {lost.length > 0 && <p>They may no longer {list(lost)}.</p>}
    </>
  );
}

export function RoleChangeDialog({ user, from, to, grants, onConfirm, onCancel, returnFocusTo }: Asked & { from: string; to: string; grants: GrantsBySubgraph | undefined }) {
  return (
    <ConfirmDialog
      id="change-role"
      title={`Make ${user.name} ${to}?`}
      confirmLabel={`Make ${user.name} ${to}`}
      onConfirm={onConfirm}
      onCancel={onCancel}
      returnFocusTo={returnFocusTo}
    >
      <p>
        {user.name} is {from} now.
      </p>
      <PowersChange from={from} to={to} grants={grants} />
      <p className="muted small">{undoNote}</p>
    </ConfirmDialog>
  );
}
