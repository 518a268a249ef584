import type { EntityManager } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock';
import { badInput } from '../errors';

export interface RolePermissionsView {
  role: string;
  permissions: string[];
}

/**
 * The permissions that administer the house: whoever holds them can give everything else
 * back. A revoke never takes one from the last role holding it (auth's `user:manage`,
 * every subgraph's `permission:manage`), or nobody could ever grant it again.
 */
export const HOUSE_KEYS: ReadonlySet<string> = new Set(['permission:manage', 'user:manage']);

/** Serialises changes that could take the last house key away (a transaction-scoped advisory lock). */
export async function lockHouseKeys(tx: EntityManager): Promise<void> {
  await tx.execute("select pg_advisory_xact_lock(hashtext('popug:house-keys'))");
}

export const ROLE_NAME_PATTERN = /^[a-z][a-z0-9_-]{1,31}$/;

export function assertRoleName(role: string): void {
  if (!ROLE_NAME_PATTERN.test(role)) {
    throw badInput('A role name is 2–32 characters: lower-case letters, digits, "-" or "_", starting with a letter', 'role');
  }
}

/**
 * The `role_permissions` table of one subgraph, read through a short cache: a grant or
 * revoke clears it at once in this process, and other processes see it within `ttlMs`.
 */
export class PermissionStore {
  private readonly cache: LRUCache<string, ReadonlySet<string>>;

  constructor(
    readonly catalog: readonly string[],
    private readonly ttlMs: number,
    clock: Clock = systemClock,
  ) {
    // Roles are few; the bound only keeps a flood of made-up role names from growing it.
    this.cache = new LRUCache({ max: 1000, ttl: ttlMs, perf: clock, ttlResolution: 0 });
  }

  async permissionsOf(em: EntityManager, role: string): Promise<ReadonlySet<string>> {
    const cached = this.ttlMs > 0 ? this.cache.get(role) : undefined; // lru-cache reads a ttl of 0 as forever
    if (cached) return cached;
    const rows = await em.execute<{ permission: string }[]>('select permission from role_permissions where role = ?', [role]);
    const permissions = new Set(rows.map((row) => row.permission));
    if (this.ttlMs > 0) this.cache.set(role, permissions);
    return permissions;
  }

  async list(em: EntityManager): Promise<RolePermissionsView[]> {
    const rows = await em.execute<{ role: string; permissions: string[] }[]>(
      `select r.name as role,
              coalesce(array_agg(rp.permission order by rp.permission) filter (where rp.permission is not null), '{}') as permissions
         from (select name from roles union select role from role_permissions) r
         left join role_permissions rp on rp.role = r.name
        group by r.name
        order by r.name`,
    );
    return rows;
  }

  /** `afterRevoke` runs in the transaction of a house key's revoke and throws to refuse it (auth keeps an active user manager). */
  async setPermission(
    em: EntityManager,
    role: string,
    permission: string,
    granted: boolean,
    afterRevoke?: (tx: EntityManager, permission: string) => Promise<void>,
  ): Promise<RolePermissionsView> {
    assertRoleName(role);
    if (!this.catalog.includes(permission)) {
      throw badInput(`Unknown permission "${permission}"; this service knows: ${this.catalog.join(', ')}`, 'permission');
    }
    await em.execute('insert into roles (name) values (?) on conflict do nothing', [role]);
    if (granted) {
      await em.execute('insert into role_permissions (role, permission) values (?, ?) on conflict do nothing', [role, permission]);
    } else if (HOUSE_KEYS.has(permission)) {
      await em.transactional(async (tx) => {
        await lockHouseKeys(tx);
        await tx.execute('delete from role_permissions where role = ? and permission = ?', [role, permission]);
        const holders = await tx.execute('select 1 from role_permissions where permission = ? limit 1', [permission]);
        if (holders.length === 0) {
          throw badInput(`"${role}" is the last role holding "${permission}" here: grant it to another role first, or nobody could grant it again`, 'granted');
        }
        await afterRevoke?.(tx, permission);
      });
    } else {
      await em.execute('delete from role_permissions where role = ? and permission = ?', [role, permission]);
    }
    this.cache.delete(role);
    const permissions = await this.permissionsOf(em, role);
    return { role, permissions: [...permissions].sort() };
  }
}
