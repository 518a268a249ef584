import { escapeLiteral, type Client } from 'pg';
import type { Env } from '../env';
import { quoteIdent, withConnection } from './database';
import { sqlStateOf } from './readiness';

const DUPLICATE_OBJECT = '42710';
const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';
/** Another session created the same role or database between our look and our CREATE. */
const CREATED_MEANWHILE = new Set([DUPLICATE_OBJECT, DUPLICATE_DATABASE, UNIQUE_VIOLATION]);

/** A role a service logs in as: its name and password come from the service's own DATABASE_URL. */
export interface LoginRole {
  name: string;
  password: string;
}

/** Every role a login or owner role must not be: nothing beyond its own grants. */
const PLAIN = 'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS';

/** A role made before (by an operator) holds attributes beyond its grants: refused, not altered (only a superuser may take them away). */
export class OverprivilegedRoleError extends Error {}

/**
 * Creates the role that owns a database (NOLOGIN: nobody signs in as it) when missing, and
 * makes the provisioning user a member of it, so a provisioning user that is no superuser
 * (CREATEDB and CREATEROLE, as managed PostgreSQL offers) may create the database for it
 * and act as it (`SET ROLE`) to migrate.
 */
export async function ensureOwnerRole(admin: Client, name: string): Promise<void> {
  await createRoleOnce(admin, name, `NOLOGIN ${PLAIN}`);
  await refuseOverprivileged(admin, name);
  const { rows } = await admin.query<{ member: boolean; superuser: boolean }>(
    'select pg_has_role(current_user, $1, \'member\') as member, (select rolsuper from pg_roles where rolname = current_user) as superuser',
    [name],
  );
  if (!rows[0]?.member && !rows[0]?.superuser) await admin.query(`grant ${quoteIdent(name)} to current_user`);
}

/** Creates a service's login role when missing; sets its password and attributes every time, so a changed secret takes effect. */
export async function ensureLoginRole(admin: Client, role: LoginRole): Promise<void> {
  await createRoleOnce(admin, role.name, `LOGIN ${PLAIN}`);
  await refuseOverprivileged(admin, role.name);
  await admin.query(`alter role ${quoteIdent(role.name)} with LOGIN password ${escapeLiteral(role.password)}`);
}

async function refuseOverprivileged(admin: Client, name: string): Promise<void> {
  const { rows } = await admin.query<{ beyond: string[] }>(
    `select array_remove(array[case when rolsuper then 'SUPERUSER' end, case when rolcreatedb then 'CREATEDB' end, case when rolcreaterole then 'CREATEROLE' end,
                               case when rolreplication then 'REPLICATION' end, case when rolbypassrls then 'BYPASSRLS' end], null) as beyond
       from pg_roles where rolname = $1`,
    [name],
  );
  const beyond = rows[0]?.beyond ?? [];
  if (beyond.length > 0) throw new OverprivilegedRoleError(`role "${name}" has ${beyond.join(', ')}: a service's role must have none (ALTER ROLE … NO${beyond[0]} as a superuser)`);
}

async function createRoleOnce(admin: Client, name: string, attributes: string): Promise<void> {
  const exists = await admin.query('select 1 from pg_roles where rolname = $1', [name]);
  if (exists.rowCount) return;
  try {
    await admin.query(`create role ${quoteIdent(name)} with ${attributes}`);
  } catch (error) {
    if (!CREATED_MEANWHILE.has(sqlStateOf(error) ?? '')) throw error;
  }
}

/** Creates the database owned by `owner` when missing, or hands an existing one (made before roles) to it. */
export async function ensureOwnedDatabase(admin: Client, database: string, owner: string): Promise<void> {
  const { rows } = await admin.query<{ owner: string }>('select pg_get_userbyid(datdba) as owner from pg_database where datname = $1', [database]);
  const found = rows[0];
  if (found?.owner === owner) return;
  if (found) {
    await admin.query(`alter database ${quoteIdent(database)} owner to ${quoteIdent(owner)}`);
    return;
  }
  try {
    await admin.query(`create database ${quoteIdent(database)} owner ${quoteIdent(owner)}`);
  } catch (error) {
    if (!CREATED_MEANWHILE.has(sqlStateOf(error) ?? '')) throw error;
  }
}

/**
 * In a database made before roles (every object then belonged to the one user of
 * DATABASE_URL), hands the schema's tables, sequences, views and functions to `owner`, so
 * the next migration, run as the owner, may alter them. Sequences that belong to a column
 * follow their table. Run by the provisioning user, connected to that database.
 */
export async function handObjectsTo(client: Client, owner: string): Promise<void> {
  const { rows } = await client.query<{ statement: string }>(
    `select format('alter %s %s owner to %I', kind, name, $1::text) as statement from (
       select case c.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view' else 'table' end as kind, c.oid::regclass::text as name
         from pg_class c
        where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p', 'v', 'm', 'S') and c.relowner <> to_regrole($1)
          and not (c.relkind = 'S' and exists (select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')))
       union all
       select 'function', p.oid::regprocedure::text from pg_proc p where p.pronamespace = 'public'::regnamespace and p.proowner <> to_regrole($1)
     ) as objects`,
    [owner],
  );
  for (const { statement } of rows) await client.query(statement);
  // Before PostgreSQL 15 `public` belonged to the bootstrap superuser and everyone could create in it.
  const schema = await client.query<{ owner: string }>("select pg_get_userbyid(nspowner) as owner from pg_namespace where nspname = 'public'");
  if (![owner, 'pg_database_owner'].includes(schema.rows[0]?.owner ?? '')) await client.query(`alter schema public owner to ${quoteIdent(owner)}`);
  await client.query('revoke create on schema public from public');
}

/**
 * Drops every role whose name starts with `namePrefix` (tests and benches: their roles carry
 * the run's DB_PREFIX). Drop the databases of the prefix first: a role that still owns a
 * database, or holds a privilege in one, cannot be dropped.
 */
export async function dropRoles(env: Env, namePrefix: string): Promise<void> {
  await withConnection(env, 'postgres', async (admin) => {
    const { rows } = await admin.query<{ rolname: string }>('select rolname from pg_roles where starts_with(rolname, $1) order by rolname', [namePrefix]);
    for (const { rolname } of rows) await admin.query(`drop role if exists ${quoteIdent(rolname)}`);
  });
}
