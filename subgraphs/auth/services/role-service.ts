import type { EntityManager } from '@mikro-orm/postgresql';
import { assertRoleName, badInput } from '@popug/lib';

export async function listRoles(em: EntityManager): Promise<string[]> {
  const rows = await em.execute<{ name: string }[]>('select name from roles order by name');
  return rows.map((row) => row.name);
}

export async function createRole(em: EntityManager, name: string): Promise<string> {
  assertRoleName(name);
  const inserted = await em.execute<{ name: string }[]>('insert into roles (name) values (?) on conflict do nothing returning name', [name]);
  if (inserted.length === 0) throw badInput(`The role "${name}" already exists`, 'name');
  return name;
}

export async function assertRoleExists(em: EntityManager, role: string): Promise<void> {
  const rows = await em.execute('select 1 from roles where name = ?', [role]);
  if (rows.length === 0) throw badInput(`There is no role "${role}"; create it first`, 'role');
}
