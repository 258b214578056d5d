import { createHash } from 'node:crypto';
import type pg from 'pg';
import { holdingOperationLock } from '../operation-lock.js';
import { ident } from './sql.js';

/** Which of these databases exist on the server. */
export async function existingDatabases(admin: pg.Client, names: string[]): Promise<Set<string>> {
  const result = await admin.query<{ datname: string }>('select datname from pg_database where datname = any($1::text[])', [names]);
  return new Set(result.rows.map((r) => r.datname));
}

export async function databaseExists(admin: pg.Client, name: string): Promise<boolean> {
  return (await existingDatabases(admin, [name])).has(name);
}

/** Idempotent; FORCE because a leftover session (a crashed tool, a stopped clone) must not keep a copy alive. */
export async function dropDatabase(admin: pg.Client, name: string): Promise<void> {
  await admin.query(`drop database if exists ${ident(name)} with (force)`);
}

export async function renameDatabase(admin: pg.Client, from: string, to: string): Promise<void> {
  await admin.query(`alter database ${ident(from)} rename to ${ident(to)}`);
}

export async function ownerOf(admin: pg.Client, database: string): Promise<string | undefined> {
  const result = await admin.query<{ owner: string }>('select pg_get_userbyid(datdba) as owner from pg_database where datname = $1', [
    database,
  ]);
  return result.rows[0]?.owner;
}

export async function isSuperuser(client: pg.Client): Promise<boolean> {
  const result = await client.query<{ rolsuper: boolean }>('select rolsuper from pg_roles where rolname = current_user');
  return result.rows[0]?.rolsuper === true;
}

/** Who else is connected, for a message that tells the operator what to stop. */
export async function otherSessionsOn(admin: pg.Client, database: string): Promise<string> {
  const result = await admin.query<{ sessions: string; who: string | null }>(
    `select count(*)::text as sessions,
            string_agg(distinct coalesce(nullif(application_name, ''), '(unnamed)') || ' as ' || coalesce(usename, '?'), ', ') as who
       from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()`,
    [database],
  );
  const row = result.rows[0];
  return row && row.sessions !== '0' ? `${row.sessions} session(s): ${row.who ?? ''}` : 'sessions that have just left';
}

/** Lock key of one logical database's copy/restore-point work; 64 bits of a hash, so unrelated keys do not collide. */
function lockKey(original: string): string {
  return createHash('sha256').update(`cutover:${original}`).digest().readBigInt64BE(0).toString();
}

/**
 * Runs work while holding a session-level advisory lock on the maintenance database, so that a retried
 * activity never races a still-running earlier attempt; a crash ends the session and frees the lock.
 */
export function withOperationLock<T>(admin: pg.Client, original: string, work: () => Promise<T>): Promise<T> {
  const key = lockKey(original);
  const lock = {
    tryAcquire: async () =>
      Boolean((await admin.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key])).rows[0]?.locked),
    release: () => admin.query('select pg_advisory_unlock($1::bigint)', [key]),
  };
  return holdingOperationLock(original, lock, work);
}

/** Database privileges, as aclexplode spells them: the only words that reach the GRANT below. */
const DATABASE_PRIVILEGES = new Set(['CONNECT', 'TEMPORARY', 'CREATE']);

/**
 * Gives `to` the database-level privileges of `from` (who may connect): CREATE DATABASE, whether from a dump or a
 * template, starts from the default (everyone may connect), so a copy or a restored original would otherwise let
 * every login in, and a login that was granted CONNECT alone would lose it.
 */
export async function copyDatabaseAccess(admin: pg.Client, from: string, to: string): Promise<void> {
  const acl = await admin.query<{ custom: boolean }>('select datacl is not null as custom from pg_database where datname = $1', [from]);
  if (!acl.rows[0]?.custom) return;
  const entries = await admin.query<{ grantee: string | null; privilege: string; grantable: boolean }>(
    `select case when a.grantee = 0 then null else pg_get_userbyid(a.grantee) end as grantee,
            a.privilege_type as privilege, a.is_grantable as grantable
       from pg_database d, aclexplode(d.datacl) a where d.datname = $1`,
    [from],
  );
  await admin.query(`revoke all on database ${ident(to)} from public`);
  for (const entry of entries.rows) {
    if (!DATABASE_PRIVILEGES.has(entry.privilege)) continue;
    const grantee = entry.grantee === null ? 'public' : ident(entry.grantee);
    const option = entry.grantable && entry.grantee !== null ? ' with grant option' : '';
    await admin.query(`grant ${entry.privilege} on database ${ident(to)} to ${grantee}${option}`);
  }
}
