import { defineReplica } from '@popug/lib';
import { trackerDatabase } from './database';

/** What the replicator brings into tracker: the company directory. */
export const trackerReplica = defineReplica({
  name: 'tracker',
  database: trackerDatabase,
  ownEventTypes: [],
  async applyOwn() {},
  // Users are kept through a rebuild, so tasks can be created and assigned meanwhile: the
  // replay rewrites each one from the log (newest revision wins, an equal revision with
  // other content is rewritten), and no row ever goes back to an older revision.
  async reset() {},
  ownComparableState: [],
});
