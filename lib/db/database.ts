import { Client } from 'pg';
import type { Env } from '../env';

export type DatabaseName = 'auth' | 'tracker' | 'accounting' | 'analytics' | 'master';

export function databaseName(env: Env, name: DatabaseName): string {
  return `${env.DB_PREFIX}${name}`;
}

export function databaseUrl(env: Env, database: string): string {
  const url = new URL(env.DATABASE_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

const DUPLICATE_DATABASE = '42P04';
const UNIQUE_VIOLATION = '23505';

/** Creates the database when missing; safe when several processes start at once. */
export async function ensureDatabase(env: Env, database: string, template?: string): Promise<void> {
  const admin = new Client({ connectionString: databaseUrl(env, 'postgres') });
  admin.on('error', () => undefined); // cut between two statements: the next one fails and says so
  await admin.connect();
  try {
    const exists = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (exists.rowCount) return;
    const from = template ? ` template ${quoteIdent(template)}` : '';
    await admin.query(`create database ${quoteIdent(database)}${from}`);
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code !== DUPLICATE_DATABASE && code !== UNIQUE_VIOLATION) throw error;
  } finally {
    await admin.end();
  }
}

/**
 * Drops every database whose name starts with `namePrefix`, `atOnce` at a time: each
 * DROP DATABASE waits for a checkpoint, and drops waiting together share one (a test run
 * ends with hundreds of databases to drop).
 */
export async function dropDatabases(env: Env, namePrefix: string, atOnce = 4): Promise<void> {
  const names = await withAdmin(env, async (admin) =>
    (await admin.query<{ datname: string }>('select datname from pg_database where starts_with(datname, $1)', [namePrefix])).rows.map((row) => row.datname),
  );
  let next = 0;
  const dropper = () =>
    withAdmin(env, async (admin) => {
      for (let name = names[next++]; name !== undefined; name = names[next++]) await admin.query(`drop database if exists ${quoteIdent(name)} with (force)`);
    });
  await Promise.all(Array.from({ length: Math.min(atOnce, names.length) }, dropper));
}

/** One connection to `database` as DATABASE_URL's user (acting as `role`, when given: `SET ROLE` at connect) for `use`, ended after it. */
export async function withConnection<T>(env: Env, database: string, use: (client: Client) => Promise<T>, role?: string): Promise<T> {
  const client = new Client({ connectionString: databaseUrl(env, database), ...(role ? { options: actingAs(role) } : {}) });
  client.on('error', () => undefined); // cut between two statements: the next one fails and says so
  await client.connect();
  try {
    return await use(client);
  } finally {
    await client.end();
  }
}

const withAdmin = <T>(env: Env, use: (admin: Client) => Promise<T>) => withConnection(env, 'postgres', use);

/** The connection's startup options that make a session act as `role` from its first statement (as `SET ROLE` would). */
export function actingAs(role: string): string {
  return `-c role=${role}`;
}

export function quoteIdent(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}
