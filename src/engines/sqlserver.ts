import { randomBytes } from 'node:crypto';
import type { DatabaseEngine, DatabaseHandle, DatabaseRole } from './engine.js';
import { secretsOf } from './connection-secrets.js';
import { connectionStringTo, databaseNameOf } from './sqlserver/connection-url.js';
import { copyToTemporary, dropTemporary } from './sqlserver/copy.js';
import { engineFailure } from './sqlserver/errors.js';
import { inspect, ping } from './sqlserver/inspect.js';
import { asLogin } from './logins.js';
import { applyMigrations } from './sqlserver/migrations.js';
import { connectMssql } from './sqlserver/mssql-session.js';
import { physicalNames } from './sqlserver/names.js';
import type { Operation } from './sqlserver/operation.js';
import { makeTemporaryReadOnly } from './sqlserver/read-only.js';
import { createRestorePoint, dropRestorePoint, restoreFromRestorePoint } from './sqlserver/restore-point.js';
import type { Connector } from './sqlserver/session.js';

/** Why a SQL Server copy does not follow its original (docs/data-safety.md has the design). */
const SNAPSHOT_ONLY = 'SQL Server copies are snapshots as of the copy: following the original is not supported on SQL Server yet';

export interface SqlServerEngineOptions {
  /** Server-side folder for the BACKUP files of backup-restore copies; the server's default backup directory when absent. */
  backupDirectory?: string;
  /** How often an Azure SQL copy (CREATE DATABASE AS COPY OF) is polled; 2 s by default. */
  pollIntervalMs?: number;
  /** Opens sessions: mssql by default; unit tests pass a scripted server. */
  connect?: Connector;
  /** Unique part of the server file names of one copy or snapshot; random by default. */
  nonce?: () => string;
}

export function createSqlServerEngine(options: SqlServerEngineOptions = {}): DatabaseEngine {
  const operationOn = (db: DatabaseHandle): Operation => ({
    db,
    names: physicalNames(databaseNameOf(db)),
    connect: options.connect ?? connectMssql,
    backupDirectory: options.backupDirectory,
    pollIntervalMs: options.pollIntervalMs ?? 2_000,
    nonce: options.nonce ?? (() => randomBytes(4).toString('hex')),
  });

  /** Every operation's errors leave through here: classified, and with the connection string and password removed. */
  async function guarded<T>(db: DatabaseHandle, doing: string, work: (op: Operation) => Promise<T>): Promise<T> {
    try {
      return await work(operationOn(db));
    } catch (error) {
      throw engineFailure(error, `${doing} (database ${db.config.name})`, secretsOf(db));
    }
  }

  return {
    name: 'sqlserver',
    connectionStringFor(db: DatabaseHandle, role: DatabaseRole): string {
      const names = physicalNames(databaseNameOf(db));
      return connectionStringTo(asLogin(db, 'app'), role === 'original' ? names.original : names.temporary);
    },
    ping: (db) => guarded(db, 'cannot reach the database', ping),
    inspect: (db) => guarded(db, 'cannot inspect the database', inspect),
    copyToTemporary: (db, heartbeat) =>
      guarded(db, 'cannot copy the database to its temporary copy', async (op) => {
        await copyToTemporary(op, heartbeat);
        return { following: false, snapshotReason: SNAPSHOT_ONLY };
      }),
    // Nothing follows, so nothing to stop: identity values of a snapshot copy are those of its backup.
    stopFollowing: async () => ({ wasFollowing: false, caughtUp: false, waitedMs: 0, lagBytes: 0, sequencesSynced: 0 }),
    makeTemporaryReadOnly: (db) => guarded(db, 'cannot make the temporary copy read-only', makeTemporaryReadOnly),
    createRestorePoint: (db, heartbeat) => guarded(db, 'cannot create the restore point', (op) => createRestorePoint(op, heartbeat)),
    restoreFromRestorePoint: (db, heartbeat) =>
      guarded(db, 'cannot restore the restore point', (op) => restoreFromRestorePoint(op, heartbeat)),
    dropRestorePoint: (db) => guarded(db, 'cannot drop the restore point', dropRestorePoint),
    applyMigrations: (db, migrations, heartbeat, options) =>
      guarded(db, 'cannot apply migrations', (op) =>
        applyMigrations({ ...op, db: asLogin(db, 'migration') }, migrations, heartbeat, options),
      ),
    dropTemporary: (db) => guarded(db, 'cannot drop the temporary copy', dropTemporary),
  };
}
