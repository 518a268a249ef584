import { setTimeout as sleep } from 'node:timers/promises';
import type { Replicator } from '../../../jobs/replicator/replicator';

/** How often the stand-in schedule runs a pass while the work waits. */
const PASS_EVERY_MS = 200;

/**
 * Runs `work` (a close by hand) while replication passes run as the replicator's schedule
 * would run them, and returns its result. A close of an ended day waits for the
 * completeness fence (docs/architecture.md, Business days): for a pass whose drain began
 * after the close first found the day due. With passes only before the close, as a test
 * that replicates by hand has, it would wait forever; with these it pays once one such
 * pass has been applied, and never earlier.
 */
export async function whileReplicating<T>(replicator: Replicator, work: () => Promise<T>): Promise<T> {
  let done = false;
  const failures: string[] = [];
  const passes = (async () => {
    while (!done) {
      const report = await replicator.runPass();
      if (report !== 'busy' && Object.keys(report.failed).length > 0) failures.push(JSON.stringify(report.failed));
      await sleep(PASS_EVERY_MS);
    }
  })();
  const result = await work().finally(() => (done = true));
  await passes;
  if (failures.length > 0) throw new Error(`replication failed while the work ran: ${failures.join('; ')}`);
  return result;
}
