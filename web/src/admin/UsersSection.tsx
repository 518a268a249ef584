import { useEffect, useState } from 'react';
import { useMutation, useQuery } from '../api/hooks';
import { Empty, ErrorMessage, QueryView } from '../components/status';
import { useBusinessClock } from '../business-clock';
import { SetUserActiveDocument, SetUserRoleDocument, UsersDocument } from '../generated/graphql';

interface UserEdit {
  role?: string;
  active?: boolean;
}

/** Every user with a role select and an active switch (user:manage). Your own row stays read-only. */
export function UsersSection({ roles, viewerId }: { roles: string[]; viewerId: string }) {
  const { formatTime } = useBusinessClock();
  const [roleFilter, setRoleFilter] = useState('');
  const users = useQuery(UsersDocument, { role: roleFilter || null });
  const setRole = useMutation(SetUserRoleDocument);
  const setActive = useMutation(SetUserActiveDocument);
  const [pending, setPending] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();
  const [edits, setEdits] = useState<Record<string, UserEdit>>({});
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
                    const user = { ...listed, ...edits[listed.id] };
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
                              void change(user, { role }, () => setRole.run({ userId: user.id, role }), `${user.name} is now ${role}.`);
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
                                const active = event.target.checked;
                                void change(
                                  user,
                                  { active },
                                  () => setActive.run({ userId: user.id, active }),
                                  `${user.name} is now ${active ? 'active' : 'deactivated'}.`,
                                );
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
    </section>
  );
}
