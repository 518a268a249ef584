import { Migration20261126064353 } from './Migration20261126064353';
import { Migration20261126064732 } from './Migration20261126064732';
import { Migration20261126065414 } from './Migration20261126065414';
import { Migration20261130225102 } from './Migration20261130225102';
import { Migration20261206010004 } from './Migration20261206010004';
import { Migration20261206030200 } from './Migration20261206030200';
import { Migration20261206101500 } from './Migration20261206101500';
import { Migration20261206103004 } from './Migration20261206103004';

/** Every migration of this database, by file name; the migrator runs them in name order. */
export const migrations = {
  Migration20261126064353,
  Migration20261126064732,
  Migration20261126065414,
  Migration20261130225102,
  Migration20261206010004,
  Migration20261206030200,
  Migration20261206101500,
  Migration20261206103004,
};
