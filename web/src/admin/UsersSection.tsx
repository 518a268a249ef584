import { useEffect, useState } from 'react';
import { execute } from '../api/client';
import { useMutation, useQuery } from '../api/hooks';
import { heldToken } from '../api/session-store';
import { Empty, ErrorMessage, QueryView } from '../components/status';
import { useBusinessClock } from '../business-clock';
import { SetUserActiveDocument, SetUserRoleDocument, UsersDocument, type TypedDocumentString } from '../generated/graphql';
import { useDelayedCommit, type DelayedChange } from './delayed-commit';
import { roleChangeNeedsConfirmation, type GrantsBySubgraph } from './role-powers';
import { DeactivateDialog, RoleChangeDialog } from './UserChangeDialogs';

interface UserEdit {
  role?: string;
  active?: boolean;
}

interface Listed {
  id: string;
  name: string;
  role: string;
}

/** A confirmed change waiting out its undo window (delayed-commit.ts). */
interface HeldChange extends DelayedChange {
  userId: string;
  edit: UserEdit;
  /** The undo toast's words, e.g. "Cora deactivated". */
  label: string;
  /** What stays so when it is undone, e.g. "Cora stays active". */
  kept: string;
  /** The control it came from: the focus goes back there on Undo. */
  control: HTMLElement | null;
}

type Question =
  | { kind: 'role'; user: Listed; to: string; control: HTMLElement }
  | { kind: 'deactivate'; user: Listed; control: HTMLElement };

/** Sends a change as the page goes away: with the token in hand, no renewal, not awaited. */
function sendLeaving<TResult, TVariables>(document: TypedDocumentString<TResult, TVariables>, variables: TVariables): void {
  execute(document, variables, { token: heldToken(), keepalive: true }).catch(() => undefined);
}

/**
 * Every user with a role select and an active switch (user:manage). Your own row stays
 * read-only. A role change to or from a powerful role (role-powers.ts) and a deactivation
 * ask first, then wait a few seconds, undoable, before they are sent; other changes apply at once.
 */
export function UsersSection({ roles, viewerId, grants }: { roles: string[]; viewerId: string; grants: GrantsBySubgraph | undefined }) {
  const { formatTime } = useBusinessClock();
  const [roleFilter, setRoleFilter] = useState('');
  const users = useQuery(UsersDocument, { role: roleFilter || null });
  const setRole = useMutation(SetUserRoleDocument);
  const setActive = useMutation(SetUserActiveDocument);
  const [pending, setPending] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();
  const [edits, setEdits] = useState<Record<string, UserEdit>>({});
  const [question, setQuestion] = useState<Question>();
  const held = useDelayedCommit<HeldChange>();
  // Fresh data from the server supersedes what we showed ahead of it.
  useEffect(() => setEdits({}), [users.data]);

  if (users.error?.code === 'FORBIDDEN') return null;

  /** Shows the new value at once, runs the mutation, and goes back to the server's value if it fails. */
  const change = async (user: { id: string; name: string }, edit: UserEdit, action: () => Promise<unknown>, success: string) => {
    setPending(user.id);
    setFailure(undefined);
    setDone(undefined);
    setEdits((current) => ({ ...current, [user.id]: { ...current[user.id], ...edit } }));
    const result = await action();
    setPending(undefined);
    if (result === undefined) {
      setEdits((current) => {
        const next = { ...current };
        delete next[user.id];
        return next;
      });
      setFailure(user.name);
      return;
    }
    setDone(success);
    users.reload();
  };
  const error = setRole.error ?? setActive.error;

  const changeRole = (user: Listed, role: string) =>
    change(user, { role }, () => setRole.run({ userId: user.id, role }), `${user.name} is now ${role}.`);
  const changeActive = (user: Listed, active: boolean) =>
    change(user, { active }, () => setActive.run({ userId: user.id, active }), `${user.name} is now ${active ? 'active' : 'deactivated'}.`);

  /** The question answered yes: the change waits out its undo window, shown as made meanwhile. */
  const confirmed = (asked: Question) => {
    setQuestion(undefined);
    setDone(undefined);
    const { user, control } = asked;
    if (asked.kind === 'role') {
      const { to } = asked;
      held.schedule({
        userId: user.id,
        edit: { role: to },
        label: `${user.name} made ${to}`,
        kept: `${user.name} stays ${user.role}`,
        control,
        commit: (leaving) => (leaving ? sendLeaving(SetUserRoleDocument, { userId: user.id, role: to }) : void changeRole(user, to)),
      });
    } else {
      held.schedule({
        userId: user.id,
        edit: { active: false },
        label: `${user.name} deactivated`,
        kept: `${user.name} stays active`,
        control,
        commit: (leaving) => (leaving ? sendLeaving(SetUserActiveDocument, { userId: user.id, active: false }) : void changeActive(user, false)),
      });
    }
  };

  const undo = () => {
    const undone = held.undo();
    if (!undone) return;
    setDone(`Undone: ${undone.kept}. Nothing was sent.`);
    undone.control?.focus();
  };

  return (
    <section className="panel" aria-labelledby="users-title">
      <div className="section-head">
        <h2 id="users-title">Users</h2>
        <div className="field inline">
          <label htmlFor="users-role-filter">Role</label>
          <select id="users-role-filter" value={roleFilter} onChange={(event) => setRoleFilter(event.target.value)}>
            <option value="">All roles</option>
            {roles.map((role) => (
              <option key={role} value={role}>
                {role}
              </option>
            ))}
          </select>
        </div>
      </div>
      {failure && error && <ErrorMessage error={`Could not change ${failure}: ${error.message}`} />}
      {done && (
        <p className="notice success" role="status">
          {done}
        </p>
      )}
      <QueryView query={users} loadingLabel="Loading users…">
        {({ users: list }) =>
          list.length === 0 ? (
            <Empty>No users with this role.</Empty>
          ) : (
            <div className="table-scroll" role="region" aria-label="Users" tabIndex={0}>
              <table className="users stack">
                <thead>
                  <tr>
                    <th scope="col">User</th>
                    <th scope="col">Role</th>
                    <th scope="col">Active</th>
                    <th scope="col">Joined</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((listed) => {
                    // A held change shows as made; its control stays enabled, so the focus can come back to it,
                    // and changing that control again is an Undo.
                    const waiting = held.pending?.userId === listed.id ? held.pending.edit : undefined;
                    const sent = { ...listed, ...edits[listed.id] };
                    const user = { ...sent, ...waiting };
                    const self = user.id === viewerId;
                    const busy = pending === user.id;
                    const roleOptions = roles.includes(user.role) ? roles : [user.role, ...roles];
                    return (
                      <tr key={user.id} className={user.active ? undefined : 'inactive'}>
                        <td>
                          <span className="user-name">
                            {user.name}
                            {self && <span className="muted"> (you)</span>}
                          </span>
                          <span className="muted small block">{user.email}</span>
                        </td>
                        <td data-label="Role">
                          <select
                            aria-label={`Role of ${user.name}`}
                            value={user.role}
                            disabled={self || busy}
                            onChange={(event) => {
                              const role = event.target.value;
                              if (waiting?.role !== undefined) undo();
                              if (role === sent.role) return;
                              if (roleChangeNeedsConfirmation(sent.role, role, grants)) {
                                setQuestion({ kind: 'role', user: sent, to: role, control: event.currentTarget });
                              } else {
                                void changeRole(sent, role);
                              }
                            }}
                          >
                            {roleOptions.map((role) => (
                              <option key={role} value={role}>
                                {role}
                              </option>
                            ))}
                          </select>
                        </td>
                        <td data-label="Active">
                          <label className="switch">
                            <input
                              type="checkbox"
                              role="switch"
                              aria-label={`${user.name} is active`}
                              checked={user.active}
                              disabled={self || busy}
                              onChange={(event) => {
                                if (waiting?.active !== undefined) undo();
                                else if (event.target.checked) void changeActive(user, true);
                                else setQuestion({ kind: 'deactivate', user, control: event.currentTarget });
                              }}
                            />
                            <span aria-hidden="true">{user.active ? 'Active' : 'Inactive'}</span>
                          </label>
                        </td>
                        <td className="nowrap" data-label="Joined">{formatTime(user.createdAt)}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
            </div>
          )
        }
      </QueryView>
      {question?.kind === 'role' && (
        <RoleChangeDialog
          user={question.user}
          from={question.user.role}
          to={question.to}
          grants={grants}
          onConfirm={() => confirmed(question)}
          onCancel={() => setQuestion(undefined)}
          returnFocusTo={question.control}
        />
      )}
      {question?.kind === 'deactivate' && (
        <DeactivateDialog
          user={question.user}
          onConfirm={() => confirmed(question)}
          onCancel={() => setQuestion(undefined)}
          returnFocusTo={question.control}
        />
      )}
      {held.pending && (
        <div className="toast" role="status">
          <span>{held.pending.label}</span>
          <button type="button" className="secondary" onClick={undo}>
            Undo
          </button>
        </div>
      )}
    </section>
  );
}
