import { quoteName, unicodeLiteral } from '../identifiers.js';
import type { SqlStatement } from '../session.js';

/** The data files (type 0: ROWS) of a database: a snapshot needs one sparse file for each. */
export function dataFilesQuery(database: string): SqlStatement {
  return {
    text:
      'SELECT name AS logicalName, file_id AS fileId, physical_name AS physicalName FROM sys.master_files ' +
      'WHERE database_id = DB_ID(@database) AND type = 0 ORDER BY file_id;',
    params: { database },
  };
}

export interface SnapshotFile {
  logicalName: string;
  path: string;
}

/** A database snapshot: instant, read-only, and what RESTORE … FROM DATABASE_SNAPSHOT reverts to. */
export function createSnapshot(snapshot: string, source: string, files: readonly SnapshotFile[]): SqlStatement {
  const on = files.map((f) => `(NAME = ${unicodeLiteral(f.logicalName)}, FILENAME = ${unicodeLiteral(f.path)})`).join(', ');
  return { text: `CREATE DATABASE ${quoteName(snapshot)} ON ${on} AS SNAPSHOT OF ${quoteName(source)};` };
}

/** Reverts the database to the snapshot, which stays; the server refuses while anyone is connected (error 3101). */
export function revertToSnapshot(database: string, snapshot: string): SqlStatement {
  return { text: `RESTORE DATABASE ${quoteName(database)} FROM DATABASE_SNAPSHOT = ${unicodeLiteral(snapshot)};` };
}
