import type { EntityManager } from '@mikro-orm/postgresql';
import { ROLE_NAME_PATTERN } from '@popug/lib/access/permission-store';
import { badInput } from '@popug/lib/errors';
import { User } from '../entities/User';
import { parseEmail } from './validation';

export const findUserById = (em: EntityManager, id: string) => em.findOne(User, { id });

export async function findUserByIdOrFail(em: EntityManager, id: string): Promise<User> {
  const user = await findUserById(em, id);
  if (!user) throw badInput(`No user has the id "${id}"`, 'userId');
  return user;
}

export async function findUserByEmail(em: EntityManager, email: string): Promise<User | null> {
  const rows = await em.execute<{ id: string }[]>('select id from users where lower(email) = ?', [email]);
  const id = rows[0]?.id;
  return id ? em.findOne(User, { id }) : null;
}

export async function listUsers(em: EntityManager, filter: { role?: string | null; active?: boolean | null }): Promise<User[]> {
  const where: Partial<Pick<User, 'role' | 'active'>> = {};
  if (filter.role != null) {
    // Nobody holds a role with an impossible name (and a NUL byte would fail in PostgreSQL).
    if (!ROLE_NAME_PATTERN.test(filter.role)) return [];
    where.role = filter.role;
  }
  if (filter.active != null) where.active = filter.active;
  return em.find(User, where, { orderBy: { createdAt: 'asc', id: 'asc' } });
}

export async function assertEmailFree(em: EntityManager, rawEmail: string): Promise<string> {
  const email = parseEmail(rawEmail);
  if (await findUserByEmail(em, email)) throw badInput('A user with this email is already registered', 'email');
  return email;
}

/** Active users whose role holds `permission` in auth: who hears about registrations. */
export async function activeHoldersOf(em: EntityManager, permission: string): Promise<User[]> {
  const rows = await em.execute<{ id: string }[]>(
      `select u.id from users u join role_permissions rp on rp.role = u.role
        where rp.permission = ? and u.active order by u.created_at`,
      [permission],
    );
  return rows.length ? em.find(User, { id: { $in: rows.map((row) => row.id) } }, { orderBy: { createdAt: 'asc' } }) : [];
}
