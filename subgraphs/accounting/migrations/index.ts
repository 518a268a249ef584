import { Migration20261126064349 } from './Migration20261126064349';
import { Migration20261126064729 } from './Migration20261126064729';
import { Migration20261126074123 } from './Migration20261126074123';
import { Migration20261130224148 } from './Migration20261130224148';
import { Migration20261130235906 } from './Migration20261130235906';
import { Migration20261201025035 } from './Migration20261201025035';
import { Migration20261206010000 } from './Migration20261206010000';
import { Migration20261206010003 } from './Migration20261206010003';
import { Migration20261206030000 } from './Migration20261206030000';
import { Migration20261206103003 } from './Migration20261206103003';
import { Migration20261206104800 } from './Migration20261206104800';
import { Migration20261206124151 } from './Migration20261206124151';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064349,
  Migration20261126064729,
  Migration20261126074123,
  Migration20261130224148,
  Migration20261130235906,
  Migration20261201025035,
  Migration20261206010000,
  Migration20261206010003,
  Migration20261206030000,
  Migration20261206103003,
  Migration20261206104800,
  Migration20261206124151,
};
