import type { SqlStatement } from '../session.js';

/** What kind of server this is and where it keeps files; properties a server does not know come back NULL. */
export const serverProfileQuery: SqlStatement = {
  text:
    "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS engineEdition, " +
    "CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)) AS dataPath, " +
    "CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)) AS logPath, " +
    "CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)) AS backupPath;",
};

export const pingQuery: SqlStatement = { text: 'SELECT 1 AS ok;' };
