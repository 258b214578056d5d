import type pg from 'pg';
import { EngineError, type DatabaseHandle, type HeartbeatFn } from '../engine.js';
import {
  copyDatabaseAccess,
  databaseExists,
  dropDatabase,
  otherSessionsOn,
  ownerOf,
  renameDatabase,
  withOperationLock,
} from './databases.js';
import { sqlStateOf } from './errors.js';
import { DEFAULT_STOP_TIMEOUT_MS, endFollowing, followsOriginal } from './follow.js';
import { withHeartbeat } from '../heartbeat.js';
import type { PhysicalNames } from './names.js';
import { withMaintenance } from './session.js';
import { ident } from './sql.js';

const OBJECT_IN_USE = '55006';

/** CREATE DATABASE ... TEMPLATE: a file-level copy, which PostgreSQL only allows while nobody is connected to the template. */
async function cloneDatabase(admin: pg.Client, template: string, target: string, heartbeat: HeartbeatFn, step: string): Promise<void> {
  const owner = await ownerOf(admin, template);
  try {
    await withHeartbeat(
      heartbeat,
      () => ({ step }),
      () => admin.query(`create database ${ident(target)} template ${ident(template)}${owner ? ` owner ${ident(owner)}` : ''}`),
    );
    await copyDatabaseAccess(admin, template, target);
  } catch (error) {
    if (sqlStateOf(error) !== OBJECT_IN_USE) throw error;
    // Cutover terminates nothing here: whoever is connected must be stopped by the deployment first.
    throw new EngineError(
      'transient',
      `cannot copy database "${template}" to "${target}": ${await otherSessionsOn(admin, template)} still connected to "${template}"`,
      OBJECT_IN_USE,
    );
  }
}

/** Snapshot of the original, built under the _partial name and renamed into place when complete. No-op when one exists. */
export async function createRestorePoint(db: DatabaseHandle, names: PhysicalNames, heartbeat: HeartbeatFn): Promise<void> {
  await withMaintenance(db, (admin) =>
    withOperationLock(admin, names.original, async () => {
      if (await databaseExists(admin, names.restorePoint)) return;
      if (!(await databaseExists(admin, names.original))) throw new Error(`database "${names.original}" does not exist`);
      // A copy that still follows is connected to the original (its WAL sender), which CREATE DATABASE … TEMPLATE needs alone.
      if (await followsOriginal(admin, names)) await endFollowing(db, admin, names, heartbeat, DEFAULT_STOP_TIMEOUT_MS);
      await dropDatabase(admin, names.restorePointPartial);
      await cloneDatabase(admin, names.original, names.restorePointPartial, heartbeat, 'restore-point');
      await renameDatabase(admin, names.restorePointPartial, names.restorePoint);
    }),
  );
}

/**
 * Replaces the original by a copy of the restore point, which is kept until dropRestorePoint.
 * Crash-safe: a missing original next to an existing restore point is simply recreated.
 */
export async function restoreFromRestorePoint(db: DatabaseHandle, names: PhysicalNames, heartbeat: HeartbeatFn): Promise<void> {
  await withMaintenance(db, (admin) =>
    withOperationLock(admin, names.original, async () => {
      if (!(await databaseExists(admin, names.restorePoint))) {
        throw new EngineError(
          'invalid-input',
          `database "${names.original}" has no restore point ("${names.restorePoint}") to restore from`,
        );
      }
      await dropDatabase(admin, names.original);
      await cloneDatabase(admin, names.restorePoint, names.original, heartbeat, 'restore');
    }),
  );
}

export async function dropRestorePoint(db: DatabaseHandle, names: PhysicalNames): Promise<void> {
  await withMaintenance(db, async (admin) => {
    await dropDatabase(admin, names.restorePoint);
    await dropDatabase(admin, names.restorePointPartial);
  });
}
