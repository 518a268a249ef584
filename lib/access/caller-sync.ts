import type { EntityManager } from '@mikro-orm/postgresql';
import { LRUCache } from 'lru-cache';
import { systemClock, type Clock } from '../clock';
import type { Caller } from '../identity';
import { upsertLocalUsers } from './local-users';

/**
 * Upserts the caller into the subgraph's own `users` and `roles` tables. A caller seen
 * unchanged a moment ago is not written again, so a busy user costs no write per request.
 */
export class CallerSync {
  /** Caller id → the revision written, for `freshForMs`. */
  private readonly recent: LRUCache<string, number>;

  constructor(
    private readonly options: { withUsers: boolean; freshForMs: number; maxEntries?: number; clock?: Clock },
  ) {
    this.recent = new LRUCache({ max: options.maxEntries ?? 10_000, ttl: options.freshForMs, perf: options.clock ?? systemClock, ttlResolution: 0 });
  }

  async sync(em: EntityManager, caller: Caller): Promise<void> {
    const fresh = this.options.freshForMs > 0; // 0 turns the memory off (lru-cache reads a ttl of 0 as forever)
    if (fresh && this.recent.get(caller.id) === caller.revision) return;
    if (this.options.withUsers) {
      // The gateway forwards active callers only.
      await upsertLocalUsers(em, [{ ...caller, active: true }]);
    } else {
      await em.execute('insert into roles (name) values (?) on conflict do nothing', [caller.role]);
    }
    if (fresh) this.recent.set(caller.id, caller.revision);
  }
}
