import { Migration20261126064345 } from './Migration20261126064345';
import { Migration20261126064727 } from './Migration20261126064727';
import { Migration20261126065328 } from './Migration20261126065328';
import { Migration20261130235902 } from './Migration20261130235902';
import { Migration20261201025032 } from './Migration20261201025032';
import { Migration20261206010002 } from './Migration20261206010002';
import { Migration20261206103002 } from './Migration20261206103002';
import { Migration20261206113000 } from './Migration20261206113000';
import { Migration20261206124019 } from './Migration20261206124019';
import { Migration20261206133000 } from './Migration20261206133000';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064345,
  Migration20261126064727,
  Migration20261126065328,
  Migration20261130235902,
  Migration20261201025032,
  Migration20261206010002,
  Migration20261206103002,
  Migration20261206113000,
  Migration20261206124019,
  Migration20261206133000,
};
