import { Migration20261126064911 } from './Migration20261126064911';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064911,
};
