import { EngineError, type HeartbeatFn } from '../engine.js';
import { withHeartbeat } from '../heartbeat.js';
import { copyDatabase } from './copy.js';
import { databaseStates, dropIfExists, isOnline, refuseWhileConnected, withOperationLock } from './databases.js';
import { describeError, isTransient } from './errors.js';
import { onMaster, type Operation } from './operation.js';
import { readServerProfile, type ServerProfile } from './server.js';
import type { SqlSession } from './session.js';
import { renameDatabase } from './statements/databases.js';
import { directoryOf, serverPath, snapshotFileName } from './statements/files.js';
import { createSnapshot, dataFilesQuery, revertToSnapshot } from './statements/restore-point.js';

/** A database snapshot of the original: instant, and reverted to in place. */
async function takeSnapshot(op: Operation, admin: SqlSession, server: ServerProfile): Promise<void> {
  const files = await admin.run<{ logicalName: string; fileId: number; physicalName: string }>(dataFilesQuery(op.names.original));
  if (files.length === 0)
    throw new Error(
      `cannot read the data files of "${op.names.original}" (sys.master_files): the login needs CREATE ANY DATABASE or VIEW ANY DEFINITION`,
    );
  const nonce = op.nonce();
  const placed = files.map((f) => ({
    logicalName: f.logicalName,
    path: serverPath(server.dataPath ?? directoryOf(f.physicalName), snapshotFileName(op.names.restorePoint, nonce, Number(f.fileId))),
  }));
  await admin.run(createSnapshot(op.names.restorePoint, op.names.original, placed));
}

/** A pre-migration copy, built under the _partial name and renamed into place when complete. */
async function takeCopy(op: Operation, admin: SqlSession, server: ServerProfile, heartbeat: HeartbeatFn): Promise<void> {
  await dropIfExists(admin, server, op.names.restorePointPartial, { force: true });
  try {
    await copyDatabase(
      op,
      admin,
      server,
      { source: op.names.original, target: op.names.restorePointPartial, step: 'restore-point' },
      heartbeat,
    );
  } catch (error) {
    await dropIfExists(admin, server, op.names.restorePointPartial, { force: true }).catch(() => undefined);
    throw error;
  }
  await admin.run(renameDatabase(op.names.restorePointPartial, op.names.restorePoint));
}

/**
 * Restore point of the original before migrations: a database snapshot where the server has them, else
 * (Azure SQL Database, or a database a snapshot cannot cover) a pre-migration copy. No-op when one exists.
 * Refused while anyone is connected: a write after the restore point would be lost by a restore.
 */
export async function createRestorePoint(op: Operation, heartbeat: HeartbeatFn): Promise<void> {
  const { names } = op;
  await onMaster(op, (admin) =>
    withOperationLock(admin, names.original, async () => {
      const server = await readServerProfile(admin);
      const states = await databaseStates(admin, [names.original, names.restorePoint]);
      if (isOnline(states.get(names.restorePoint))) return;
      if (!isOnline(states.get(names.original))) throw new Error(`database "${names.original}" does not exist or is not online`);
      await refuseWhileConnected(op.connect, op.db, names.original, 'take a restore point of');
      await dropIfExists(admin, server, names.restorePoint, { force: true });
      if (server.azureSqlDatabase) return takeCopy(op, admin, server, heartbeat);
      try {
        await withHeartbeat(
          heartbeat,
          () => ({ step: 'restore-point', stage: 'snapshot' }),
          () => takeSnapshot(op, admin, server),
        );
      } catch (snapshotError) {
        if (isTransient(snapshotError)) throw snapshotError;
        await dropIfExists(admin, server, names.restorePoint, { force: false }).catch(() => undefined);
        try {
          await takeCopy(op, admin, server, heartbeat);
        } catch (copyError) {
          throw new Error(
            `a database snapshot failed (${describeError(snapshotError)}), and so did a pre-migration copy: ${describeError(copyError)}`,
            { cause: copyError },
          );
        }
      }
    }),
  );
}

/**
 * Puts the original back to the restore point, which is kept until dropRestorePoint. A snapshot is reverted
 * in place; a copy replaces the original (crash-safe: a missing or half-restored original is simply recreated).
 */
export async function restoreFromRestorePoint(op: Operation, heartbeat: HeartbeatFn): Promise<void> {
  const { names } = op;
  await onMaster(op, (admin) =>
    withOperationLock(admin, names.original, async () => {
      const server = await readServerProfile(admin);
      const states = await databaseStates(admin, [names.original, names.restorePoint]);
      const restorePoint = states.get(names.restorePoint);
      if (!isOnline(restorePoint)) {
        throw new EngineError(
          'invalid-input',
          `database "${names.original}" has no restore point ("${names.restorePoint}") to restore from`,
        );
      }
      const original = states.get(names.original);
      if (isOnline(original)) await refuseWhileConnected(op.connect, op.db, names.original, 'restore');
      if (restorePoint?.snapshot) {
        await withHeartbeat(
          heartbeat,
          () => ({ step: 'restore', stage: 'revert' }),
          () => admin.run(revertToSnapshot(original?.name ?? names.original, restorePoint.name)),
        );
        return;
      }
      await dropIfExists(admin, server, names.original, { force: false });
      await copyDatabase(op, admin, server, { source: names.restorePoint, target: names.original, step: 'restore' }, heartbeat);
    }),
  );
}

export async function dropRestorePoint(op: Operation): Promise<void> {
  await onMaster(op, async (admin) => {
    const server = await readServerProfile(admin);
    await dropIfExists(admin, server, op.names.restorePoint, { force: true });
    await dropIfExists(admin, server, op.names.restorePointPartial, { force: true });
  });
}
