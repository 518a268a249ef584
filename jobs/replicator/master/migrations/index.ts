import { Migration20261126064911 } from './Migration20261126064911';
import { Migration20261130235911 } from './Migration20261130235911';
import { Migration20261201025040 } from './Migration20261201025040';
import { Migration20261206020000 } from './Migration20261206020000';
import { Migration20261206030100 } from './Migration20261206030100';
import { Migration20261206040000 } from './Migration20261206040000';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064911,
  Migration20261130235911,
  Migration20261201025040,
  Migration20261206020000,
  Migration20261206030100,
  Migration20261206040000,
};
