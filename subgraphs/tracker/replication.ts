import { defineReplica } from '@popug/lib/replication/define-replica';
import { trackerDatabase } from './database';
import { applyLoggedCompletions } from './services/logged-completions';

/**
 * What the replicator brings into tracker: the company directory, and the tracker's own
 * task completions from the log, so a tracker restored from a backup knows which tasks
 * are done already (services/logged-completions.ts).
 */
export const trackerReplica = defineReplica({
  name: 'tracker',
  database: trackerDatabase,
  ownEventTypes: ['task.completed'],
  async applyOwn(em, completions) {
    await applyLoggedCompletions(em, completions);
  },
  // Users are kept through a rebuild, so tasks can be created and assigned meanwhile: the
  // replay rewrites each one from the log (newest revision wins, an equal revision with
  // other content is rewritten), and no row ever goes back to an older revision. Tasks
  // are the tracker's own: a replay of completions only finds them DONE already.
  async reset() {},
  ownComparableState: [],
});
