import { Migration20261126064127 } from './Migration20261126064127';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = { Migration20261126064127 };
