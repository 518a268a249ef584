import DataLoader from 'dataloader';
import type { EntityClass, EntityManager, FilterQuery } from '@mikro-orm/postgresql';
import { isUuid } from '../ids';

type Loader = DataLoader<string, object | null>;

/** One set of loaders per request: a request's EntityManager is forked for it alone. */
const loadersByRequest = new WeakMap<EntityManager, Map<EntityClass<object>, Loader>>();

/**
 * Loads an entity by id for the gateway's entity references (`__resolveReference`).
 * References arrive a page at a time — twenty tasks of one assignee come as twenty
 * references to the same user — so every id asked for in the same tick goes into one
 * `where id in (…)` query, each id once, and the answer is kept for the rest of the request.
 */
export function loadReference<T extends { id: string }>(em: EntityManager, entity: EntityClass<T>, id: string): Promise<T | null> {
  // A malformed id names nothing, and must not fail the batch it would have joined.
  if (!isUuid(id)) return Promise.resolve(null);
  let loaders = loadersByRequest.get(em);
  if (!loaders) {
    loaders = new Map();
    loadersByRequest.set(em, loaders);
  }
  let loader = loaders.get(entity);
  if (!loader) {
    loader = new DataLoader<string, object | null>(async (ids) => {
      const found = await em.find(entity, [...ids] as FilterQuery<T>);
      const byId = new Map(found.map((row) => [row.id, row]));
      return ids.map((each) => byId.get(each) ?? null);
    });
    loaders.set(entity, loader);
  }
  // This loader was made for `entity` (the map's key), so what it loads is a T.
  return loader.load(id.toLowerCase()) as Promise<T | null>;
}
