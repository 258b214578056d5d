import type { DatabaseHandle } from '../engine.js';
import type { PhysicalNames } from './names.js';
import { MASTER, withSession, type Connector, type SqlSession } from './session.js';

/** Everything one engine operation works with: the handle, its physical names and how to reach the server. */
export interface Operation {
  db: DatabaseHandle;
  names: PhysicalNames;
  connect: Connector;
  /** Server-side folder for BACKUP files; the server's default backup directory when absent. */
  backupDirectory?: string;
  /** How often an Azure SQL copy is polled. */
  pollIntervalMs: number;
  /** Unique part of the server file names of one copy or snapshot. */
  nonce: () => string;
}

/** A session on master, where databases are created, renamed and dropped. */
export function onMaster<T>(op: Operation, work: (admin: SqlSession) => Promise<T>): Promise<T> {
  return withSession(op.connect, op.db, MASTER, work);
}
