import DataLoader from 'dataloader';
import type { EntityClass, EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { isUuid } from '../ids';
import { requestLoader } from './request-loader';

/**
 * Loads an entity by id for the gateway's entity references (`__resolveReference`).
 * References arrive a page at a time — twenty tasks of one assignee come as twenty
 * references to the same user — so every id asked for in the same tick goes into one
 * `where id in (…)` query, each id once, and the answer is kept for the rest of the request.
 */
export function loadReference<T extends { id: string }>(em: EntityManager, entity: EntityClass<T>, id: string): Promise<T | null> {
  // A malformed id names nothing, and must not fail the batch it would have joined.
  if (!isUuid(id)) return Promise.resolve(null);
  const loader = requestLoader(em, entity, () =>
    new DataLoader<string, T | null>(async (ids) => {
      const found = await em.find(entity, [...ids] as FilterQuery<T>);
      const byId = new Map(found.map((row) => [row.id, row]));
      return ids.map((each) => byId.get(each) ?? null);
    }),
  );
  return loader.load(id.toLowerCase());
}
