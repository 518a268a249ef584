import { useEffect, useState } from 'react';
import { ApiError } from '../api/client';
import { toApiError } from '../api/client';
import { ErrorMessage } from '../components/status';

export type SubgraphName = 'auth' | 'tracker' | 'accounting' | 'analytics';

export interface RolePermissions {
  role: string;
  permissions: string[];
}

interface PermissionMatrixProps {
  subgraph: SubgraphName;
  title: string;
  roles: string[];
  /** The columns: every permission the subgraph knows. */
  catalog: string[];
  grants: RolePermissions[];
  /** Grants or revokes one cell; resolves with the role's permissions as the subgraph now holds them. */
  setPermission(role: string, permission: string, granted: boolean): Promise<RolePermissions>;
}

type Held = Map<string, Set<string>>;

const heldBy = (grants: RolePermissions[]): Held => new Map(grants.map((grant) => [grant.role, new Set(grant.permissions)]));

function withCell(held: Held, role: string, permission: string, granted: boolean): Held {
  const permissions = new Set(held.get(role));
  if (granted) permissions.add(permission);
  else permissions.delete(permission);
  return new Map(held).set(role, permissions);
}

/** "task:view_all" with a line break allowed after the colon, so a matrix of many permissions fits a tablet. */
function PermissionName({ permission }: { permission: string }) {
  const colon = permission.indexOf(':');
  if (colon < 0) return <>{permission}</>;
  return (
    <>
      {permission.slice(0, colon + 1)}
      <wbr />
      {permission.slice(colon + 1)}
    </>
  );
}

/** Role × permission checkboxes of one subgraph; a click grants or revokes at once. */
export function PermissionMatrix({ subgraph, title, roles, catalog, grants, setPermission }: PermissionMatrixProps) {
  const [held, setHeld] = useState(() => heldBy(grants));
  const [pending, setPending] = useState<string>();
  const [error, setError] = useState<ApiError>();
  const [changed, setChanged] = useState<string>();
  const headingId = `matrix-${subgraph}`;

  // Fresh data from the server (e.g. after a role was created) replaces what we tracked.
  useEffect(() => setHeld(heldBy(grants)), [grants]);

  const toggle = async (role: string, permission: string, granted: boolean) => {
    const cell = `${role}\0${permission}`;
    setPending(cell);
    setError(undefined);
    setChanged(undefined);
    // Ticked at once; the subgraph's answer then says what the role really holds.
    setHeld((current) => withCell(current, role, permission, granted));
    try {
      const result = await setPermission(role, permission, granted);
      setHeld((current) => new Map(current).set(result.role, new Set(result.permissions)));
      setChanged(`${granted ? 'Granted' : 'Revoked'} ${permission} ${granted ? 'to' : 'from'} ${role} in ${title}.`);
    } catch (caught) {
      setHeld((current) => withCell(current, role, permission, !granted));
      setError(toApiError(caught));
    } finally {
      setPending(undefined);
    }
  };

  return (
    <section className="matrix" aria-labelledby={headingId}>
      <h3 id={headingId}>{title}</h3>
      {error && <ErrorMessage error={error} />}
      <p className="visually-hidden" role="status">
        {changed}
      </p>
      <div className="table-scroll" role="region" aria-labelledby={headingId} tabIndex={0}>
        <table className="stack-inline">
          <thead>
            <tr>
              <th scope="col">Role</th>
              {catalog.map((permission) => (
                <th key={permission} scope="col" className="permission">
                  <PermissionName permission={permission} />
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {roles.map((role) => (
              <tr key={role}>
                <th scope="row">{role}</th>
                {catalog.map((permission) => {
                  const checked = held.get(role)?.has(permission) ?? false;
                  return (
                    <td key={permission} className="center" data-label={permission}>
                      <input
                        type="checkbox"
                        aria-label={`${permission} for ${role} in ${subgraph}`}
                        checked={checked}
                        disabled={pending !== undefined}
                        onChange={() => void toggle(role, permission, !checked)}
                      />
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
