import { EngineError, type DatabaseHandle, type HeartbeatFn } from '../engine.js';
import { withHeartbeat } from '../heartbeat.js';
import { databaseStates, dropIfExists, isOnline, waitUntilOnline, withOperationLock } from './databases.js';
import { onMaster, type Operation } from './operation.js';
import { readServerProfile, type ServerProfile } from './server.js';
import type { SqlSession } from './session.js';
import { backupDatabase, copyOf, deleteBackupFile, fileListOnly, restoreDatabase } from './statements/copy.js';
import { renameDatabase } from './statements/databases.js';
import { backupFileName, directoryOf, restoredFileName, serverPath } from './statements/files.js';

export type CopyMethod = 'backup-restore' | 'copy-of';

/** The configured copy method, or the one the server has; a method the server lacks is a configuration error. */
export function copyMethodFor(db: DatabaseHandle, server: ServerProfile): CopyMethod {
  const method = db.config.copyMethod ?? (server.azureSqlDatabase ? 'copy-of' : 'backup-restore');
  if (method === 'backup-restore' && server.azureSqlDatabase) {
    throw new EngineError(
      'invalid-input',
      `database ${db.config.name}: copyMethod backup-restore needs BACKUP to disk, which Azure SQL Database does not have: use copy-of`,
    );
  }
  if (method === 'copy-of' && !server.azureSqlDatabase) {
    throw new EngineError(
      'invalid-input',
      `database ${db.config.name}: copyMethod copy-of (CREATE DATABASE AS COPY OF) exists only on Azure SQL Database: use backup-restore`,
    );
  }
  return method;
}

interface FileListRow {
  LogicalName: string;
  PhysicalName: string;
  Type: string;
  FileId: number | string;
}

/** BACKUP … WITH COPY_ONLY, then RESTORE … WITH MOVE under the target's name, each file at a path of its own. */
async function backupAndRestore(
  op: Operation,
  admin: SqlSession,
  server: ServerProfile,
  source: string,
  target: string,
  heartbeat: HeartbeatFn,
  step: string,
): Promise<void> {
  const directory = op.backupDirectory ?? server.backupPath;
  if (!directory) {
    throw new EngineError(
      'invalid-input',
      'the server reports no default backup directory: set one (SQL Server 2019+: mssql-conf filelocation.defaultbackupdir, ' +
        'or MSSQL_BACKUP_DIR in a container) that the server can write',
    );
  }
  const file = serverPath(directory, backupFileName(source));
  await withHeartbeat(
    heartbeat,
    () => ({ step, stage: 'backup' }),
    () => admin.run(backupDatabase(source, file)),
  );
  try {
    const files = await admin.run<FileListRow>(fileListOnly(file));
    const nonce = op.nonce();
    const moves = files.map((f) => {
      const type = String(f.Type).trim().toUpperCase();
      const directoryFor = (type === 'L' ? server.logPath : server.dataPath) ?? directoryOf(String(f.PhysicalName));
      return {
        logicalName: String(f.LogicalName),
        path: serverPath(directoryFor, restoredFileName(target, nonce, { type, fileId: Number(f.FileId) })),
      };
    });
    await withHeartbeat(
      heartbeat,
      () => ({ step, stage: 'restore' }),
      () => admin.run(restoreDatabase(target, file, moves)),
    );
  } finally {
    await admin.run(deleteBackupFile(file)).catch(() => undefined);
  }
}

/** Copies source to target (which must not exist yet) by the database's copy method; the target is ONLINE when this returns. */
export async function copyDatabase(
  op: Operation,
  admin: SqlSession,
  server: ServerProfile,
  copy: { source: string; target: string; step: string },
  heartbeat: HeartbeatFn,
): Promise<void> {
  if (copyMethodFor(op.db, server) === 'copy-of') {
    await admin.run(copyOf(copy.target, copy.source));
    await waitUntilOnline(admin, server, copy.target, { pollIntervalMs: op.pollIntervalMs, heartbeat, step: copy.step });
    return;
  }
  await backupAndRestore(op, admin, server, copy.source, copy.target, heartbeat, copy.step);
}

/**
 * Builds the temporary copy under its _partial name and renames it into place only when complete,
 * so that a crash mid-copy leaves a _partial that the retry drops and redoes.
 */
export async function copyToTemporary(op: Operation, heartbeat: HeartbeatFn): Promise<void> {
  const { names } = op;
  await onMaster(op, (admin) =>
    withOperationLock(admin, names.original, async () => {
      const server = await readServerProfile(admin);
      const states = await databaseStates(admin, [names.original, names.temporary]);
      if (isOnline(states.get(names.temporary))) return;
      if (!isOnline(states.get(names.original))) throw new Error(`database "${names.original}" does not exist or is not online`);
      // A temporary copy that is not ONLINE is not one Cutover finished: start over.
      await dropIfExists(admin, server, names.temporary, { force: true });
      await dropIfExists(admin, server, names.temporaryPartial, { force: true });
      try {
        await copyDatabase(op, admin, server, { source: names.original, target: names.temporaryPartial, step: 'clone' }, heartbeat);
      } catch (error) {
        await dropIfExists(admin, server, names.temporaryPartial, { force: true }).catch(() => undefined);
        throw error;
      }
      await admin.run(renameDatabase(names.temporaryPartial, names.temporary));
    }),
  );
}

/** Idempotent; also removes what an interrupted copy left behind, and sessions a clone left open. */
export async function dropTemporary(op: Operation): Promise<void> {
  await onMaster(op, async (admin) => {
    const server = await readServerProfile(admin);
    await dropIfExists(admin, server, op.names.temporary, { force: true });
    await dropIfExists(admin, server, op.names.temporaryPartial, { force: true });
  });
}
