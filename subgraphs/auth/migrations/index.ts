import { Migration20261126064127 } from './Migration20261126064127';
import { Migration20261126064725 } from './Migration20261126064725';
import { Migration20261130231500 } from './Migration20261130231500';
import { Migration20261130235859 } from './Migration20261130235859';
import { Migration20261201025029 } from './Migration20261201025029';
import { Migration20261206010001 } from './Migration20261206010001';
import { Migration20261206035000 } from './Migration20261206035000';
import { Migration20261206100011 } from './Migration20261206100011';
import { Migration20261206103001 } from './Migration20261206103001';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064127,
  Migration20261126064725,
  Migration20261130231500,
  Migration20261130235859,
  Migration20261201025029,
  Migration20261206010001,
  Migration20261206035000,
  Migration20261206100011,
  Migration20261206103001,
};
