import { Migration20261126064911 } from './Migration20261126064911';
import { Migration20261130235911 } from './Migration20261130235911';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064911,
  Migration20261130235911,
};
