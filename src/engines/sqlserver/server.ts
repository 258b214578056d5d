import { EngineError } from '../engine.js';
import type { SqlSession } from './session.js';
import { serverProfileQuery } from './statements/server.js';

/** What the operations need to know about the server: which copy and restore-point methods it has, and where files go. */
export interface ServerProfile {
  /** Azure SQL Database: no BACKUP to disk and no snapshots, but CREATE DATABASE AS COPY OF. */
  azureSqlDatabase: boolean;
  dataPath?: string;
  logPath?: string;
  backupPath?: string;
}

/** SERVERPROPERTY('EngineEdition') values. */
const AZURE_SQL_DATABASE = 5;
const AZURE_SQL_MANAGED_INSTANCE = 8;

const text = (value: unknown): string | undefined => (typeof value === 'string' && value.trim() !== '' ? value : undefined);

export async function readServerProfile(admin: SqlSession): Promise<ServerProfile> {
  const [row] = await admin.run(serverProfileQuery);
  const edition = Number(row?.engineEdition);
  if (edition === AZURE_SQL_MANAGED_INSTANCE) {
    // Managed Instance has neither BACKUP TO DISK nor COPY OF nor snapshots: no copy method Cutover knows works there.
    throw new EngineError(
      'invalid-input',
      'Azure SQL Managed Instance is not supported: it has no BACKUP TO DISK, no CREATE DATABASE AS COPY OF and no database snapshots',
    );
  }
  return {
    azureSqlDatabase: edition === AZURE_SQL_DATABASE,
    dataPath: text(row?.dataPath),
    logPath: text(row?.logPath),
    backupPath: text(row?.backupPath),
  };
}
