import { EngineError, type DatabaseHandle, type HeartbeatFn } from '../engine.js';
import { withHeartbeat } from '../heartbeat.js';
import { holdingOperationLock } from '../operation-lock.js';
import type { ServerProfile } from './server.js';
import { withSession, type Connector, type SqlSession } from './session.js';
import { databaseStatesQuery, dropDatabase, otherSessionsQuery } from './statements/databases.js';
import { acquireOperationLock, releaseOperationLock } from './statements/lock.js';

export interface DatabaseState {
  name: string;
  /** sys.databases.state_desc: ONLINE, RESTORING, COPYING (Azure SQL), SUSPECT, OFFLINE… */
  state: string;
  readOnly: boolean;
  snapshot: boolean;
}

/** The named databases that exist, in any state; names compare as the server does (usually case-insensitively). */
export async function databaseStates(admin: SqlSession, names: readonly string[]): Promise<Map<string, DatabaseState>> {
  const rows = await admin.run<{ name: string; state: string; readOnly: number; snapshot: number }>(databaseStatesQuery(names));
  const found = new Map<string, DatabaseState>();
  for (const name of names) {
    const row = rows.find((r) => r.name === name) ?? rows.find((r) => r.name.toLowerCase() === name.toLowerCase());
    if (row)
      found.set(name, { name: row.name, state: row.state, readOnly: Number(row.readOnly) === 1, snapshot: Number(row.snapshot) === 1 });
  }
  return found;
}

/** Only an ONLINE database is usable: one still RESTORING or COPYING is work in progress. */
export const isOnline = (state: DatabaseState | undefined): boolean => state?.state === 'ONLINE';

/**
 * Drops the database if it exists, in whatever state. With force, sessions still on it are rolled back
 * first (not possible on a snapshot, on a database that is not ONLINE, nor on Azure SQL Database, whose
 * DROP ends the sessions itself).
 */
export async function dropIfExists(admin: SqlSession, server: ServerProfile, name: string, options: { force: boolean }): Promise<void> {
  const state = (await databaseStates(admin, [name])).get(name);
  if (!state) return;
  const force = options.force && !server.azureSqlDatabase && !state.snapshot && isOnline(state);
  await admin.run(dropDatabase(state.name, { force }));
}

/** Who else is on the database, for a refusal that tells the operator what to stop; empty when nobody. */
export async function otherSessionsOn(connect: Connector, db: DatabaseHandle, database: string): Promise<string[]> {
  const rows = await withSession(connect, db, database, (session) => session.run<{ program: string; login: string }>(otherSessionsQuery));
  return rows.map((r) => `${r.program} as ${r.login}`);
}

/** How many times, and how far apart, sessions are counted before a refusal: a session just closed may still be listed for a moment. */
const SESSION_LOOKS = 3;
const SESSION_LOOK_INTERVAL_MS = 250;

/** Cutover terminates nothing here: whoever is connected must be stopped by the deployment first. */
export async function refuseWhileConnected(connect: Connector, db: DatabaseHandle, database: string, doing: string): Promise<void> {
  let sessions = await otherSessionsOn(connect, db, database);
  for (let look = 1; look < SESSION_LOOKS && sessions.length > 0; look++) {
    await new Promise((resolve) => setTimeout(resolve, SESSION_LOOK_INTERVAL_MS));
    sessions = await otherSessionsOn(connect, db, database);
  }
  if (sessions.length === 0) return;
  const who = [...new Set(sessions)].join(', ');
  throw new EngineError(
    'transient',
    `cannot ${doing} "${database}": ${sessions.length} session(s) (${who}) still connected to "${database}"`,
  );
}

export interface WaitOptions {
  pollIntervalMs: number;
  heartbeat: HeartbeatFn;
  step: string;
}

/**
 * Waits until an asynchronous copy (Azure SQL COPY OF) is ONLINE. A copy that ends SUSPECT (or in any other
 * failed state) is dropped and reported: it can only be done again.
 */
export async function waitUntilOnline(admin: SqlSession, server: ServerProfile, name: string, options: WaitOptions): Promise<void> {
  let last = 'unknown';
  await withHeartbeat(
    options.heartbeat,
    () => ({ step: options.step, state: last }),
    async () => {
      for (;;) {
        const state = (await databaseStates(admin, [name])).get(name);
        if (!state) throw new Error(`the copy "${name}" disappeared while it was being made (the server gave up on it)`);
        last = state.state;
        if (isOnline(state)) return;
        if (state.state !== 'COPYING' && state.state !== 'RESTORING') {
          await dropIfExists(admin, server, name, { force: false }).catch(() => undefined);
          throw new EngineError('transient', `the copy "${name}" ended in state ${state.state} and was dropped; it will be made again`);
        }
        await new Promise((resolve) => setTimeout(resolve, options.pollIntervalMs));
      }
    },
  );
}

/**
 * Runs work while holding a session-owned application lock in master, so that a retried activity never races
 * a still-running earlier attempt on the same logical database; a crash ends the session and frees the lock.
 */
export function withOperationLock<T>(admin: SqlSession, original: string, work: () => Promise<T>): Promise<T> {
  const lock = {
    // A result below 0: another operation holds it.
    tryAcquire: async () => !(Number((await admin.run<{ result: number }>(acquireOperationLock(original)))[0]?.result) < 0),
    release: () => admin.run(releaseOperationLock(original)),
  };
  return holdingOperationLock(original, lock, work);
}
