import type { ReplicaDefinition } from '@popug/lib';
import { catchUp } from './catch-up';
import type { Replicator } from './replicator';

/**
 * Rebuilds one replica from version 0 of the master log, with no pass running meanwhile:
 * its replicated tables are emptied and its watermark reset in one transaction, then the
 * whole log is applied again in batches.
 */
export async function rebuildReplica(replicator: Replicator, replica: ReplicaDefinition, batchSize: number): Promise<number> {
  return replicator.exclusively(async () => {
    const replicaEm = await replicator.replicaEm(replica);
    await replicaEm.transactional(async (tx) => {
      await replica.reset(tx);
      await tx.execute('update replication_watermark set version = 0, updated_at = now() where id = 1');
    });
    const master = await replicator.master();
    const result = await catchUp(master, () => replicaEm.fork(), replica, replicator.replicaSettings, batchSize);
    await master.execute('update replica_state set watermark = ?, updated_at = now() where replica = ?', [result.watermark, replica.name]);
    return result.applied;
  });
}
