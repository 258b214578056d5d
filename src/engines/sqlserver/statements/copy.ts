import { quoteName, unicodeLiteral } from '../identifiers.js';
import type { SqlStatement } from '../session.js';

/** Where RESTORE puts one file of the backup (its logical name comes from RESTORE FILELISTONLY). */
export interface FileMove {
  logicalName: string;
  path: string;
}

/** A consistent online backup that leaves the database's backup chain alone (COPY_ONLY) and overwrites the previous one (INIT, FORMAT). */
export function backupDatabase(database: string, file: string): SqlStatement {
  return {
    text: `BACKUP DATABASE ${quoteName(database)} TO DISK = ${unicodeLiteral(file)} WITH COPY_ONLY, INIT, FORMAT, CHECKSUM, STATS = 10;`,
  };
}

/** Rows LogicalName, PhysicalName, Type, FileId… of the files in a backup. */
export function fileListOnly(file: string): SqlStatement {
  return { text: `RESTORE FILELISTONLY FROM DISK = ${unicodeLiteral(file)};` };
}

/** Restores the backup as a new database, every file moved to a path of its own (never over the source's files). */
export function restoreDatabase(database: string, file: string, moves: readonly FileMove[]): SqlStatement {
  const moveClauses = moves.map((m) => `MOVE ${unicodeLiteral(m.logicalName)} TO ${unicodeLiteral(m.path)}`);
  return {
    text:
      `RESTORE DATABASE ${quoteName(database)} FROM DISK = ${unicodeLiteral(file)} ` +
      `WITH ${[...moveClauses, 'RECOVERY', 'CHECKSUM', 'STATS = 10'].join(', ')};`,
  };
}

/** Azure SQL Database: an asynchronous, transactionally consistent copy; it must be the only statement of its batch. */
export function copyOf(target: string, source: string): SqlStatement {
  return { text: `CREATE DATABASE ${quoteName(target)} AS COPY OF ${quoteName(source)};` };
}

/** Best effort: removes the backup file when the login may (sysadmin); otherwise the next copy overwrites it. */
export function deleteBackupFile(file: string): SqlStatement {
  return { text: `EXEC master.dbo.xp_delete_file 0, ${unicodeLiteral(file)};` };
}
