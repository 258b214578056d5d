import { createHash } from 'node:crypto';
import type pg from 'pg';
import { EngineError } from '../engine.js';
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
  const result = await admin.query<{ owner: string }>('select pg_get_userbyid(datdba) as owner from pg_database where datname = $1', [database]);
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
export async function withOperationLock<T>(admin: pg.Client, original: string, work: () => Promise<T>): Promise<T> {
  const key = lockKey(original);
  const result = await admin.query<{ locked: boolean }>('select pg_try_advisory_lock($1::bigint) as locked', [key]);
  if (!result.rows[0]?.locked) {
    throw new EngineError('transient', `another Cutover operation on database "${original}" is still running (copy, restore point or restore); try again when it ends`);
  }
  try {
    return await work();
  } finally {
    await admin.query('select pg_advisory_unlock($1::bigint)', [key]).catch(() => undefined);
  }
}
