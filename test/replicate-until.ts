import type { Env } from '@popug/lib/env';
import { testLogger } from '@popug/testing/stack';
import { waitFor } from '@popug/testing/wait';
import { startReplicator } from '../jobs/replicator/worker';

/**
 * For a test system started without the jobs worker: runs a replicator until `done` holds,
 * then stops it. Users and their roles reach a subgraph's copy of the directory only this
 * way (building a request's context writes nothing, lib/subgraph/context.ts).
 */
export async function replicateUntil(env: Env, done: () => Promise<boolean>, what: string): Promise<void> {
  const replication = await startReplicator(env, testLogger('replicator'));
  try {
    await waitFor(async () => ((await done()) ? true : undefined), 15_000, what);
  } finally {
    await replication.close();
  }
}
