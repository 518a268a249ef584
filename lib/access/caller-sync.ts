import type { EntityManager } from '@mikro-orm/postgresql';
import type { Caller } from '../identity';
import { upsertLocalUsers } from './local-users';

/**
 * Upserts the caller into the subgraph's own `users` and `roles` tables. A caller seen
 * unchanged a moment ago is not written again, so a busy user costs no write per request.
 */
export class CallerSync {
  private readonly recent = new Map<string, { revision: number; at: number }>();

  constructor(
    private readonly options: { withUsers: boolean; freshForMs: number; maxEntries?: number },
  ) {}

  async sync(em: EntityManager, caller: Caller): Promise<void> {
    const seen = this.recent.get(caller.id);
    if (seen && seen.revision === caller.revision && Date.now() - seen.at < this.options.freshForMs) return;
    if (this.options.withUsers) {
      // The gateway forwards active callers only.
      await upsertLocalUsers(em, [{ ...caller, active: true }]);
    } else {
      await em.execute('insert into roles (name) values (?) on conflict do nothing', [caller.role]);
    }
    if (this.recent.size >= (this.options.maxEntries ?? 10_000)) this.recent.clear();
    this.recent.set(caller.id, { revision: caller.revision, at: Date.now() });
  }
}
