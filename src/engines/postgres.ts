import type { DatabaseEngine, DatabaseHandle, DatabaseRole } from './engine.js';
import { secretsOf } from './connection-secrets.js';
import { connectionStringTo, databaseNameOf } from './postgres/connection-url.js';
import { startCapture } from './postgres/capture.js';
import { copyToTemporary, dropTemporary, stopFollowing } from './postgres/copy.js';
import { engineFailure } from './postgres/errors.js';
import { inspect, ping } from './postgres/inspect.js';
import { asLogin } from './logins.js';
import { protectMigrationHistoryStatement } from './postgres/logins.js';
import { applyMigrations, undoMigrations } from './postgres/migrations.js';
import { physicalNames, type PhysicalNames } from './postgres/names.js';
import { makeTemporaryReadOnly } from './postgres/read-only.js';
import { createRestorePoint, dropRestorePoint, restoreFromRestorePoint } from './postgres/restore-point.js';
import { replayChanges } from './postgres/replay.js';
import { withConnection } from './postgres/session.js';

export interface PostgresEngineOptions {
  /** Where pg_dump and pg_restore live, e.g. /usr/lib/postgresql/15/bin. */
  binDir: string;
  /** How long a copy waits for transactions open on the server before it gives up following (a snapshot then); 30 s by default. */
  followStartTimeoutMs?: number;
}

const namesOf = (db: DatabaseHandle): PhysicalNames => physicalNames(databaseNameOf(db));

/** Every operation's errors leave through here: classified, and with the connection string and password removed. */
async function guarded<T>(db: DatabaseHandle, doing: string, work: (names: PhysicalNames) => Promise<T>): Promise<T> {
  try {
    return await work(namesOf(db));
  } catch (error) {
    throw engineFailure(error, `${doing} (database ${db.config.name})`, secretsOf(db));
  }
}

export function createPostgresEngine(options: PostgresEngineOptions): DatabaseEngine {
  return {
    name: 'postgres',
    connectionStringFor(db: DatabaseHandle, role: DatabaseRole): string {
      const names = namesOf(db);
      return connectionStringTo(asLogin(db, 'app'), role === 'original' ? names.original : names.temporary);
    },
    ping: (db) => guarded(db, 'cannot reach the database', (names) => ping(db, names)),
    inspect: (db) => guarded(db, 'cannot inspect the database', (names) => inspect(db, names)),
    copyToTemporary: (db, heartbeat) =>
      guarded(db, 'cannot copy the database to its temporary copy', (names) =>
        copyToTemporary(db, names, { binDir: options.binDir, followStartTimeoutMs: options.followStartTimeoutMs ?? 30_000 }, heartbeat),
      ),
    stopFollowing: (db, heartbeat, stopOptions = {}) =>
      guarded(db, 'cannot stop the temporary copy following the original', (names) => stopFollowing(db, names, heartbeat, stopOptions)),
    makeTemporaryReadOnly: (db) => guarded(db, 'cannot make the temporary copy read-only', (names) => makeTemporaryReadOnly(db, names)),
    createRestorePoint: (db, heartbeat) =>
      guarded(db, 'cannot create the restore point', (names) => createRestorePoint(db, names, heartbeat)),
    restoreFromRestorePoint: (db, heartbeat) =>
      guarded(db, 'cannot restore the restore point', (names) => restoreFromRestorePoint(db, names, heartbeat)),
    dropRestorePoint: (db) => guarded(db, 'cannot drop the restore point', (names) => dropRestorePoint(db, names)),
    applyMigrations: (db, migrations, heartbeat, options) =>
      guarded(db, 'cannot apply migrations', async (names) => {
        const migrator = asLogin(db, 'migration');
        const result = await applyMigrations(migrator, names, migrations, heartbeat, options);
        await withConnection(migrator, names.original, (client) => client.query(protectMigrationHistoryStatement));
        return result;
      }),
    dropTemporary: (db) => guarded(db, 'cannot drop the temporary copy', (names) => dropTemporary(db, names)),
    // Transactional DDL: an undo script and the removal of its history row commit together or not at all.
    undoMigrations: (db, migrations, heartbeat) =>
      guarded(db, 'cannot undo migrations', (names) => undoMigrations(asLogin(db, 'migration'), names, migrations, heartbeat)),
    startCapture: (db, captureOptions = {}) =>
      guarded(db, 'cannot start capturing the writes of the temporary copy', (names) => startCapture(db, names, captureOptions)),
    replayChanges: (db, heartbeat, replayOptions = {}) =>
      guarded(db, 'cannot replay the writes of the temporary copy', (names) => replayChanges(db, names, heartbeat, replayOptions)),
  };
}
