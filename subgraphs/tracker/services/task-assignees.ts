import type { EntityManager } from '@mikro-orm/postgresql';
import { executePreparedSql } from '@popug/lib/db/sql';
import { badInput } from '@popug/lib/errors';
import type { UserCopy } from '@popug/lib/replication/user-copies';
import { parseIdOrNull, parsePageSize, parseSearch } from './task-input';
import { containsPattern } from './task-list';

export const ASSIGNEES_PAGE_DEFAULT = 20;
export const ASSIGNEES_PAGE_MAX = 100;

export interface AssigneePageInput {
  search?: string | null;
  first?: number | null;
  after?: string | null;
}

/**
 * The popugs a task list can be filtered by: everyone in tracker's copy of the directory
 * (a former worker's done tasks still name them), by name then id, searched in name and
 * email. Keyset pages, as task lists.
 */
export async function listAssignees(em: EntityManager, input: AssigneePageInput): Promise<UserCopy[]> {
  const search = parseSearch(input.search);
  const first = parsePageSize(input.first, ASSIGNEES_PAGE_DEFAULT, ASSIGNEES_PAGE_MAX);
  const after = parseIdOrNull(input.after, 'after', 'user');
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (search) {
    const pattern = containsPattern(search);
    conditions.push('(name ilike ? or email ilike ?)');
    params.push(pattern, pattern);
  }
  if (after) {
    const [known] = await executePreparedSql<{ found: number }>(em, 'select 1 as found from users where id = ?::uuid', [after]);
    if (!known) throw badInput(`after: no user has the id "${after}"`, 'after');
    conditions.push('(lower(name), id) > (select lower(name), id from users where id = ?::uuid)');
    params.push(after);
  }
  const where = conditions.length ? `where ${conditions.join(' and ')}` : '';
  return executePreparedSql<UserCopy>(em, `select id, email, name, role from users ${where} order by lower(name), id limit ?::int`, [...params, first]);
}
