import type { EntityManager } from '@popug/lib/db/orm';
import type { PoisonEventError, ReplicaDefinition, ReplicaSettings } from '@popug/lib/replication/replica';
import { applyBatch, type BatchResult } from './apply';
import { LogReader } from './log-reader';
import { nextStep } from './poison-policy';

export type CatchUpResult = BatchResult;

/**
 * Applies batches until the replica has caught up with the head it saw. A poison event
 * stops it: everything before that event is applied, the event and all after it wait,
 * and it is thrown as a PoisonEventError (the earliest one, when more turn up on the way).
 * Any other failure ends the catch-up; what was committed stays, the rest is retried next pass.
 */
export async function catchUp(
  master: EntityManager,
  replicaEm: () => EntityManager,
  replica: ReplicaDefinition,
  settings: ReplicaSettings,
  batchSize: number,
): Promise<CatchUpResult> {
  let applied = 0;
  let size = batchSize;
  let poison: PoisonEventError | undefined;
  let reader = new LogReader(master, replica);
  for (;;) {
    let batch: BatchResult;
    try {
      batch = await applyBatch(replicaEm(), replica, settings, reader, size);
    } catch (error) {
      const step = nextStep(error);
      if (step.kind === 'give-up') throw step.error;
      if (step.kind === 'bisect') size = step.size;
      else {
        // Read no further than the poison: a later batch cannot hold an earlier one.
        poison = step.poison;
        size = batchSize;
        reader = new LogReader(master, replica, poison.version);
      }
      continue;
    }
    applied += batch.applied;
    if (batch.applied < size) {
      if (poison) throw poison;
      return { applied, watermark: batch.watermark };
    }
  }
}
