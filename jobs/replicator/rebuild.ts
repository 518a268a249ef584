import type { ReplicaDefinition } from '@popug/lib/replication/replica';
import { catchUp } from './catch-up';
import type { Replicator } from './replicator';

/**
 * Rebuilds one replica from version 0 of the master log, with no pass running meanwhile,
 * in one transaction of the replica's database: its replicated tables are emptied, its
 * watermark reset and the whole log applied again (batch by batch, each a savepoint),
 * then all of it commits at once. Until then every reader sees the replica as it was,
 * so a half-built replica is never served, and nothing can close a business day from
 * it: a close waits for accounting's `accounts` lock, which the reset holds to the end.
 */
export async function rebuildReplica(replicator: Replicator, replica: ReplicaDefinition, batchSize: number): Promise<number> {
  return replicator.exclusively(async () => {
    const replicaEm = await replicator.replicaEm(replica);
    const master = await replicator.master();
    const result = await replicaEm.transactional(async (tx) => {
      await replica.reset(tx);
      await tx.execute('update replication_watermark set version = 0, updated_at = now() where id = 1');
      return catchUp(master, () => tx, replica, replicator.replicaSettings, batchSize);
    });
    await master.execute('update replica_state set watermark = ?, updated_at = now() where replica = ?', [result.watermark, replica.name]);
    return result.applied;
  });
}
