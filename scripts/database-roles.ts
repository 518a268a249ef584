import type { Client } from 'pg';
import { databaseName, quoteIdent, withConnection, type DatabaseName } from '@popug/lib/db/database';
import { migrateDatabase, type OrmOptions } from '@popug/lib/db/orm';
import { ensureLoginRole, ensureOwnedDatabase, ensureOwnerRole, handObjectsTo, type LoginRole } from '@popug/lib/db/roles';
import type { Env } from '@popug/lib/env';
import type { Logger } from '@popug/lib/logger';
import { REPLICATOR_GRANTS, type DatabaseGrants } from '../jobs/replicator/grants';

/** The services that hold a database role; the gateway has none. */
export type DatabaseService = 'auth' | 'tracker' | 'accounting' | 'analytics' | 'jobs';

/** Where the migrate step reads each service's DATABASE_URL (Kubernetes: the service's Secret mounted with a prefix). */
export const SERVICE_URL_SETTINGS = {
  auth: 'AUTH_DATABASE_URL',
  tracker: 'TRACKER_DATABASE_URL',
  accounting: 'ACCOUNTING_DATABASE_URL',
  analytics: 'ANALYTICS_DATABASE_URL',
  jobs: 'JOBS_DATABASE_URL',
} as const satisfies Record<DatabaseService, keyof Env>;

/** Whose data each database holds: that service's role reads and writes all of it. The master log is the jobs worker's (its replicator). */
const DATA_SERVICE: Record<DatabaseName, DatabaseService> = { auth: 'auth', tracker: 'tracker', accounting: 'accounting', analytics: 'analytics', master: 'jobs' };

/** The NOLOGIN role that owns a database and everything in it: migrations run as it. */
export function ownerRole(env: Env, database: DatabaseName): string {
  return `${env.DB_PREFIX}${database}_owner`;
}

/** A provisioning setting is missing or unsafe; the message lists every problem. */
export class DatabaseRoleSettingsError extends Error {}

/** Each service's login role, from its DATABASE_URL as the migrate step is given it; refuses shared or missing ones. */
export function serviceLoginRoles(env: Env): Record<DatabaseService, LoginRole> {
  const problems: string[] = [];
  const admin = env.DATABASE_ADMIN_URL ? decodeURIComponent(new URL(env.DATABASE_ADMIN_URL).username) : '';
  const seen = new Map<string, string>();
  const roles = Object.fromEntries(
    Object.entries(SERVICE_URL_SETTINGS).map(([service, setting]) => {
      const url = env[setting] ? new URL(env[setting]) : undefined;
      const role = { name: decodeURIComponent(url?.username ?? ''), password: decodeURIComponent(url?.password ?? '') };
      if (!url) problems.push(`${setting}: give the ${service} service's own DATABASE_URL (its role and password)`);
      else if (!role.name || !role.password) problems.push(`${setting}: name the role and its password (postgres://<role>:<password>@host:port)`);
      else if (role.name === admin) problems.push(`${setting}: "${role.name}" is the provisioning user of DATABASE_ADMIN_URL; give ${service} a role of its own`);
      else if (seen.has(role.name)) problems.push(`${setting}: "${role.name}" is ${seen.get(role.name)}'s role too; every service needs its own`);
      seen.set(role.name, service);
      return [service, role];
    }),
  ) as Record<DatabaseService, LoginRole>;
  if (problems.length > 0) throw new DatabaseRoleSettingsError(`Database roles cannot be provisioned:\n${problems.map((line) => `  ${line}`).join('\n')}`);
  return roles;
}

const PROVISIONING_LOCK = 727_002;

/**
 * The migrate step with DATABASE_ADMIN_URL (docs/operations.md "Database roles"): for each
 * database, its owner role and the services' login roles are created when missing (login
 * passwords set from the services' URLs every time), the database is created owned by the
 * owner role, PUBLIC loses CONNECT and TEMP, the migrations run as the owner, and then the
 * data service's role gets read and write on every table (default privileges cover tables
 * of later migrations) and the replicator exactly REPLICATOR_GRANTS. Idempotent; concurrent
 * runs take turns on an advisory lock.
 */
export async function provisionDatabases(env: Env, databases: readonly OrmOptions[], logger?: Logger): Promise<void> {
  const roles = serviceLoginRoles(env);
  const adminEnv: Env = { ...env, DATABASE_URL: env.DATABASE_ADMIN_URL ?? env.DATABASE_URL };
  await withConnection(adminEnv, 'postgres', async (admin) => {
    await admin.query('select pg_advisory_lock($1)', [PROVISIONING_LOCK]);
    for (const role of Object.values(roles)) await ensureLoginRole(admin, role);
    for (const options of databases) {
      const database = databaseName(env, options.database);
      const owner = ownerRole(env, options.database);
      await ensureOwnerRole(admin, owner);
      await ensureOwnedDatabase(admin, database, owner);
      await withConnection(adminEnv, database, (client) => handObjectsTo(client, owner));
      await migrateDatabase(adminEnv, { ...options, logger }, owner);
      const data = roles[DATA_SERVICE[options.database]].name;
      const replicator = roles.jobs.name;
      const guest = replicator === data ? undefined : { role: replicator, grants: REPLICATOR_GRANTS[options.database] ?? {} };
      await withConnection(adminEnv, database, (client) => grantInDatabase(client, database, data, guest), owner);
      logger?.info({ database, owner, data, replicator }, 'database roles granted');
    }
  });
}

/**
 * Run as the owner, in one transaction: nobody but the data role (and the replicator,
 * where it has grants) may connect; the data role reads and writes every table but the
 * migrations' record, and tables of later migrations too; the replicator holds exactly
 * its grants, whatever it held before.
 */
async function grantInDatabase(client: Client, database: string, data: string, replicator?: { role: string; grants: DatabaseGrants }): Promise<void> {
  const db = quoteIdent(database);
  const role = quoteIdent(data);
  const statements = [
    `revoke connect, temporary on database ${db} from public`,
    `grant connect on database ${db} to ${role}`,
    `grant select, insert, update, delete on all tables in schema public to ${role}`,
    `grant usage, select on all sequences in schema public to ${role}`,
    `revoke insert, update, delete, truncate on table mikro_orm_migrations from ${role}`,
    `alter default privileges in schema public grant select, insert, update, delete on tables to ${role}`,
    `alter default privileges in schema public grant usage, select on sequences to ${role}`,
    ...(replicator ? exactGrants(db, replicator.role, replicator.grants) : []),
  ];
  await client.query('begin');
  try {
    for (const statement of statements) await client.query(statement);
    await client.query('commit');
  } catch (error) {
    await client.query('rollback');
    throw error;
  }
}

function exactGrants(db: string, name: string, grants: DatabaseGrants): string[] {
  const role = quoteIdent(name);
  const objects = Object.entries(grants);
  return [
    `revoke all on all tables in schema public from ${role}`,
    `revoke all on all sequences in schema public from ${role}`,
    objects.length > 0 ? `grant connect on database ${db} to ${role}` : `revoke connect on database ${db} from ${role}`,
    ...objects.map(([object, privileges]) => `grant ${privileges} on ${object} to ${role}`),
  ];
}
