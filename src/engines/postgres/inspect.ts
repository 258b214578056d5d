import type { DatabaseHandle, DatabaseInspection } from '../engine.js';
import { existingDatabases } from './databases.js';
import { subscriptionIn } from './follow.js';
import { appliedMigrations } from './migrations.js';
import type { PhysicalNames } from './names.js';
import { isTemporaryReadOnly } from './read-only.js';
import { withConnection, withMaintenance } from './session.js';

/** What exists on the server for one logical database, read fresh every time: resume decisions rest on it. */
export async function inspect(db: DatabaseHandle, names: PhysicalNames): Promise<DatabaseInspection> {
  return withMaintenance(db, async (admin) => {
    const existing = await existingDatabases(admin, [names.original, names.temporary, names.restorePoint]);
    const temporaryExists = existing.has(names.temporary);
    return {
      original: { exists: existing.has(names.original) },
      temporary: {
        exists: temporaryExists,
        readOnly: temporaryExists && (await isTemporaryReadOnly(db, admin, names)),
        following: temporaryExists && (await subscriptionIn(admin, names.temporary))?.enabled === true,
      },
      restorePoint: { exists: existing.has(names.restorePoint) },
      appliedMigrations: existing.has(names.original) ? await withConnection(db, names.original, appliedMigrations) : [],
    };
  });
}

/** A cheap round trip with short timeouts: is the original reachable with these credentials? */
export async function ping(db: DatabaseHandle, names: PhysicalNames): Promise<void> {
  await withConnection(db, names.original, (client) => client.query('select 1'), { timeoutMs: 5_000, queryTimeoutMs: 5_000 });
}
