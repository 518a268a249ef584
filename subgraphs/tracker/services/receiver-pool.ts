import type { EntityManager } from '@mikro-orm/postgresql';
import { badInput } from '@popug/lib/errors';

export const RECEIVE_PERMISSION = 'task:receive';

/**
 * Who may be handed a task: active users of the local directory (filled by the replicator
 * and by requests) whose role holds task:receive in tracker's own role_permissions.
 * One row per user; `rp` is bound to the permission in the join.
 */
export const RECEIVER_POOL_FROM = `users u
  join role_permissions rp on rp.role = u.role and rp.permission = '${RECEIVE_PERMISSION}'
 where u.active`;

export const noReceivers = () =>
  badInput('No user can receive tasks: nobody active holds the task:receive permission in tracker');

/** A uniformly random member of the pool, or BAD_USER_INPUT when it is empty. */
export async function pickRandomReceiver(em: EntityManager): Promise<string> {
  const rows = await em.execute<{ id: string }[]>(`select u.id from ${RECEIVER_POOL_FROM} order by random() limit 1`);
  const id = rows[0]?.id;
  if (!id) throw noReceivers();
  return id;
}
