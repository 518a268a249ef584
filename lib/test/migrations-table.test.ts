import { Client } from 'pg';
import { isolateTestFile } from '@popug/testing/isolation';
import { authDatabase } from '../../subgraphs/auth/database';
import { databaseName, databaseUrl } from '../db/database';
import { migrateDatabase, migrationNames, type OrmOptions } from '../db/orm';

/**
 * Databases migrated before MikroORM 7 keep their migrations table as MikroORM 6 made it
 * (nullable columns, `timestamptz` without a precision) and the names it wrote there. The
 * migrate step of today must take those rows as run: a migration run again would fail on
 * its own tables, or worse, run twice.
 */
test('a database whose migrations MikroORM 6 recorded runs none of them again, and runs the one it lacks', async () => {
  const env = isolateTestFile();
  const names = migrationNames(authDatabase);
  const last = names.at(-1) ?? '';
  const { [last]: _lacking, ...earlier } = authDatabase.migrations as Record<string, OrmOptions['migrations'][string]>;
  await migrateDatabase(env, { ...authDatabase, migrations: earlier });
  const db = new Client({ connectionString: databaseUrl(env, databaseName(env, authDatabase.database)) });
  await db.connect();
  try {
    // The table as MikroORM 6 made it, word for word, with the rows it wrote.
    await db.query('alter table mikro_orm_migrations rename to recorded');
    await db.query('create table mikro_orm_migrations (id serial primary key, name varchar(255), executed_at timestamptz default current_timestamp)');
    await db.query('insert into mikro_orm_migrations (name, executed_at) select name, executed_at from recorded order by id');
    await db.query('drop table recorded');

    // A migration run again fails on the tables it made the first time, and the step with it.
    await migrateDatabase(env, authDatabase);
    const { rows } = await db.query<{ name: string }>('select name from mikro_orm_migrations order by id');
    expect(rows.map((row) => row.name)).toEqual(names);
  } finally {
    await db.end();
  }
});
