import type { DatabaseInspection } from '../engine.js';
import { databaseStates, isOnline } from './databases.js';
import { appliedMigrations } from './migrations.js';
import { onMaster, type Operation } from './operation.js';
import { withSession } from './session.js';
import { pingQuery } from './statements/server.js';

/** What exists on the server for one logical database, read fresh every time: resume decisions rest on it. Only ONLINE databases count. */
export async function inspect(op: Operation): Promise<DatabaseInspection> {
  const { names } = op;
  const states = await onMaster(op, (admin) => databaseStates(admin, [names.original, names.temporary, names.restorePoint]));
  const temporary = states.get(names.temporary);
  const originalOnline = isOnline(states.get(names.original));
  return {
    original: { exists: originalOnline },
    temporary: { exists: isOnline(temporary), readOnly: isOnline(temporary) && temporary?.readOnly === true, following: false },
    restorePoint: { exists: isOnline(states.get(names.restorePoint)) },
    appliedMigrations: originalOnline ? await withSession(op.connect, op.db, names.original, appliedMigrations) : [],
  };
}

/** A cheap round trip with short timeouts: is the original reachable with these credentials? */
export async function ping(op: Operation): Promise<void> {
  await withSession(op.connect, op.db, op.names.original, (session) => session.run(pingQuery), {
    timeoutMs: 5_000,
    requestTimeoutMs: 5_000,
  });
}
