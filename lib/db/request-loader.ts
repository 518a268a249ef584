import type DataLoader from 'dataloader';
import type { EntityManager } from '@mikro-orm/postgresql';

/** One set of loaders per request: a request's EntityManager is forked for it alone. */
const loadersByRequest = new WeakMap<EntityManager, Map<object, DataLoader<never, unknown, unknown>>>();

/**
 * The request's loader of one `kind` of row, made by `create` the first time the request
 * asks: what a page of results asks in the same tick goes to the database as one batch,
 * and is kept for the rest of the request.
 */
export function requestLoader<K, V, C = K>(em: EntityManager, kind: object, create: () => DataLoader<K, V, C>): DataLoader<K, V, C> {
  let loaders = loadersByRequest.get(em);
  if (!loaders) {
    loaders = new Map();
    loadersByRequest.set(em, loaders);
  }
  let loader = loaders.get(kind);
  if (!loader) {
    loader = create();
    loaders.set(kind, loader);
  }
  // Each kind's loader is made only by its own module's `create` (the kind is private to it), so it is that loader.
  return loader as unknown as DataLoader<K, V, C>;
}
