import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { Pool } from 'pg';
import { databaseName, databaseUrl } from '@popug/lib/db/database';
import type { Env } from '@popug/lib/env';
import { signUserToken, type Caller } from '@popug/lib/identity';
import { loadPrivateKey } from '@popug/lib/keys';

/** A seeded worker with a session of their own, and the access token auth would have given them at login. */
export interface LivePopug {
  caller: Caller;
  token: string;
}

/**
 * `count` workers in one statement per table, as `register` and `login` would leave them
 * but without an argon2 hash each (19 MiB and ~50 ms apiece: 10 000 would take minutes):
 * one hash shared by all, since nobody logs in. Each gets an open session in auth and an
 * access token signed with auth's key for it, as login signs them (signUserToken), so the
 * gateway looks every subscriber up and watches every session as it would a real one; and
 * accounting's copy of the user with an empty account, as the replicator would leave them.
 */
export async function seedLivePopugs(env: Env, count: number, tokenTtlSeconds: number): Promise<LivePopug[]> {
  const run = Date.now();
  const passwordHash = await argon2.hash(randomBytes(16).toString('hex'));
  const auth = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'auth')), max: 1 });
  const accounting = new Pool({ connectionString: databaseUrl(env, databaseName(env, 'accounting')), max: 1 });
  try {
    const { rows } = await auth.query<{ id: string; email: string; name: string; role: string; revision: number; session_id: string }>(
      `with made as (
         insert into users (email, name, password_hash, role)
         select 'bench-live-' || $1::text || '-' || n || '@popug.test', 'Live popug ' || n, $2, 'worker' from generate_series(1, $3::int) n
         returning id, email, name, role, revision
       ), opened as (
         insert into sessions (id, user_id, secret_hash, expires_at)
         select gen_random_uuid(), id, encode(sha256(gen_random_uuid()::text::bytea), 'hex'), now() + interval '1 day' from made
         returning id as session_id, user_id
       )
       select m.*, o.session_id from made m join opened o on o.user_id = m.id order by m.email`,
      [String(run), passwordHash, count],
    );
    const callers: Caller[] = rows.map((row) => ({ id: row.id, email: row.email, name: row.name, role: row.role, revision: row.revision, sessionId: row.session_id }));
    await accounting.query(
      `with copied as (
         insert into users (id, email, name, role, active, revision)
         select * from unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bool[], $6::int[])
         returning id
       )
       insert into accounts (user_id, balance) select id, 0 from copied`,
      [callers.map(({ id }) => id), callers.map(({ email }) => email), callers.map(({ name }) => name), callers.map(({ role }) => role), callers.map(() => true), callers.map(({ revision }) => revision)],
    );
    await Promise.all([auth.query('analyze users; analyze sessions'), accounting.query('analyze users; analyze accounts')]);
    const key = loadPrivateKey(env, 'auth');
    const popugs: LivePopug[] = [];
    for (const caller of callers) popugs.push({ caller, token: (await signUserToken(caller.id, key, tokenTtlSeconds, caller.sessionId ?? '')).token });
    return popugs;
  } finally {
    await Promise.all([auth.end(), accounting.end()]);
  }
}
