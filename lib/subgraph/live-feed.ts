import type { EntityManager } from '@mikro-orm/postgresql';
import { declarationOf, type AccessContext } from '../access/shield';
import type { ShieldRule } from '../access/rule-tree';
import { forbidden } from '../errors';
import type { SubgraphContext } from './context';
import type { LiveStream } from './live-stream';

/**
 * What the subscription feeds of every subgraph share (tracker's task updates, accounting's
 * account movements, analytics' summary): notifications gathered into batches, and the
 * subscriber's permission checked again, by its field's own rule, before each delivery.
 */

/**
 * Items handled in batches of at most `chunk`, one batch at a time: the notifications of one
 * burst (a shuffle sends one per task, all in one read of the socket) are gathered until the
 * next turn of the event loop, so the rows they name are read with one statement per chunk.
 */
export class Batcher<T> {
  private pending: T[] = [];
  private running = false;

  constructor(
    private readonly handle: (batch: T[]) => Promise<void>,
    private readonly options: { chunk: number; onError: (error: unknown) => void },
  ) {}

  add(item: T): void {
    this.pending.push(item);
    if (this.running) return;
    this.running = true;
    setImmediate(() => void this.drain());
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.options.chunk);
      try {
        await this.handle(batch);
      } catch (error) {
        this.options.onError(error);
      }
    }
    // No await between the last look at `pending` and this: an item added later starts a new drain.
    this.running = false;
  }
}

/**
 * Puts each subscriber's role permissions as they are now into its context (the permission
 * store caches them at most PERMISSION_CACHE_MS, ≤ 4 s), one read per role: the field rules of
 * the events it is sent, and `refusalOf`, read them there.
 */
export async function refreshPermissions(em: EntityManager, contexts: Iterable<SubgraphContext<unknown>>): Promise<void> {
  const byRole = new Map<string, Promise<ReadonlySet<string>>>();
  const refreshed = [...contexts].map(async (context) => {
    const role = context.caller?.role;
    if (role === undefined) return;
    let permissions = byRole.get(role);
    if (!permissions) {
      permissions = context.permissionStore.permissionsOf(em, role);
      byRole.set(role, permissions);
    }
    // The context lives as long as the subscription: this event's permissions replace the last one's.
    context.permissions = await permissions;
  });
  await Promise.all(refreshed);
}

/** What a feed keeps of one subscriber, as far as re-checking it goes. */
export interface Subscriber {
  context: SubgraphContext<unknown>;
  stream: Pick<LiveStream<unknown>, 'end'>;
}

/**
 * Before a delivery: each subscriber's permissions read again (`refreshPermissions`) and its
 * field's rule run again; those it refuses are ended with its error (FORBIDDEN…). Returns the
 * subscribers still admitted.
 */
export async function stillAdmitted<S extends Subscriber>(em: EntityManager, rule: ShieldRule, subscribers: Iterable<S>): Promise<S[]> {
  const all = [...subscribers];
  await refreshPermissions(em, all.map((subscriber) => subscriber.context));
  return all.filter((subscriber) => {
    const refusal = refusalOf(rule, subscriber.context);
    if (refusal) subscriber.stream.end(refusal);
    return !refusal;
  });
}

/**
 * The error that ends a subscription whose field's rule no longer admits its caller, or
 * undefined when it still does: the same declared rule shield ran at subscribe (permissions.ts).
 */
export function refusalOf(rule: ShieldRule, context: AccessContext): Error | undefined {
  const declaration = declarationOf(rule);
  if (declaration?.kind === 'anyone') return undefined;
  if (!declaration) return forbidden();
  try {
    const verdict = declaration.decide(undefined, context);
    return verdict === true ? undefined : verdict instanceof Error ? verdict : forbidden();
  } catch {
    return forbidden();
  }
}
