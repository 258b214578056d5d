import { describe, expect, test } from 'vitest';
import { backupDatabase, copyOf, deleteBackupFile, fileListOnly, restoreDatabase } from '../../src/engines/sqlserver/statements/copy.js';
import { databaseStatesQuery, dropDatabase, otherSessionsQuery, renameDatabase } from '../../src/engines/sqlserver/statements/databases.js';
import {
  backupFileName,
  directoryOf,
  restoredFileName,
  serverPath,
  snapshotFileName,
} from '../../src/engines/sqlserver/statements/files.js';
import { acquireOperationLock, operationLockResource, releaseOperationLock } from '../../src/engines/sqlserver/statements/lock.js';
import {
  appliedMigrationsQuery,
  beginMigration,
  commitMigration,
  ensureHistory,
  lockMigrationsForSession,
  recordedChecksumOf,
  recordedChecksums,
  recordMigration,
  rollbackIfOpen,
  transactionState,
} from '../../src/engines/sqlserver/statements/migrations.js';
import { setReadOnly } from '../../src/engines/sqlserver/statements/read-only.js';
import { createSnapshot, dataFilesQuery, revertToSnapshot } from '../../src/engines/sqlserver/statements/restore-point.js';
import { pingQuery, serverProfileQuery } from '../../src/engines/sqlserver/statements/server.js';

/** A name that needs every kind of quoting: brackets, both quotes, a batch separator and a comment. */
const HOSTILE = "shop]; DROP DATABASE master; --'\nGO\n/*";
const HOSTILE_QUOTED = "[shop]]; DROP DATABASE master; --'\nGO\n/*]";

describe('T-SQL of database housekeeping', () => {
  test('states of the named databases: names are parameters, never text', () => {
    expect(databaseStatesQuery(['shop', 'shop__cutover_tmp', HOSTILE])).toEqual({
      text:
        'SELECT name, state_desc AS state, CAST(is_read_only AS int) AS readOnly, ' +
        'CASE WHEN source_database_id IS NULL THEN 0 ELSE 1 END AS snapshot ' +
        'FROM sys.databases WHERE name IN (@name0, @name1, @name2);',
      params: { name0: 'shop', name1: 'shop__cutover_tmp', name2: HOSTILE },
    });
  });

  test('drop: plain, or forced by SINGLE_USER WITH ROLLBACK IMMEDIATE in the same batch', () => {
    expect(dropDatabase('shop__cutover_tmp', { force: false })).toEqual({ text: 'DROP DATABASE [shop__cutover_tmp];' });
    expect(dropDatabase('shop__cutover_tmp', { force: true })).toEqual({
      text: 'ALTER DATABASE [shop__cutover_tmp] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\nDROP DATABASE [shop__cutover_tmp];',
    });
    expect(dropDatabase(HOSTILE, { force: true }).text).toBe(
      `ALTER DATABASE ${HOSTILE_QUOTED} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\nDROP DATABASE ${HOSTILE_QUOTED};`,
    );
  });

  test('rename into place', () => {
    expect(renameDatabase('shop__cutover_tmp_partial', 'shop__cutover_tmp')).toEqual({
      text: 'ALTER DATABASE [shop__cutover_tmp_partial] MODIFY NAME = [shop__cutover_tmp];',
    });
    expect(renameDatabase(HOSTILE, 'a]b').text).toBe(`ALTER DATABASE ${HOSTILE_QUOTED} MODIFY NAME = [a]]b];`);
  });

  test('who else is connected, run on the database itself', () => {
    expect(otherSessionsQuery.text).toBe(
      "SELECT COALESCE(NULLIF(program_name, N''), N'(unnamed)') AS program, login_name AS login FROM sys.dm_exec_sessions " +
        'WHERE database_id = DB_ID() AND session_id <> @@SPID AND is_user_process = 1;',
    );
  });

  test('server profile and ping', () => {
    expect(serverProfileQuery.text).toBe(
      "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS engineEdition, " +
        "CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)) AS dataPath, " +
        "CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)) AS logPath, " +
        "CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)) AS backupPath;",
    );
    expect(pingQuery).toEqual({ text: 'SELECT 1 AS ok;' });
  });

  test('the operation lock: a hash of the name as resource, session-owned, never waiting', () => {
    const resource = operationLockResource('shop');
    expect(resource).toMatch(/^cutover:[0-9a-f]{32}$/);
    expect(operationLockResource(HOSTILE)).toMatch(/^cutover:[0-9a-f]{32}$/);
    expect(acquireOperationLock('shop').text).toBe(
      `DECLARE @result int;\nEXEC @result = sp_getapplock @Resource = N'${resource}', ` +
        "@LockMode = N'Exclusive', @LockOwner = N'Session', @LockTimeout = 0;\nSELECT @result AS result;",
    );
    expect(releaseOperationLock('shop').text).toBe(`EXEC sp_releaseapplock @Resource = N'${resource}', @LockOwner = N'Session';`);
  });
});

describe('T-SQL of copies', () => {
  test('BACKUP … WITH COPY_ONLY to one file per source database', () => {
    expect(backupDatabase('shop', '/var/opt/mssql/backup/cutover-x.bak')).toEqual({
      text: "BACKUP DATABASE [shop] TO DISK = N'/var/opt/mssql/backup/cutover-x.bak' WITH COPY_ONLY, INIT, FORMAT, CHECKSUM, STATS = 10;",
    });
    expect(backupDatabase(HOSTILE, "C:\\it's\\x.bak").text).toBe(
      `BACKUP DATABASE ${HOSTILE_QUOTED} TO DISK = N'C:\\it''s\\x.bak' WITH COPY_ONLY, INIT, FORMAT, CHECKSUM, STATS = 10;`,
    );
  });

  test('RESTORE FILELISTONLY, then RESTORE … WITH MOVE of every logical file', () => {
    expect(fileListOnly('/b/x.bak')).toEqual({ text: "RESTORE FILELISTONLY FROM DISK = N'/b/x.bak';" });
    const moves = [
      { logicalName: 'shop', path: '/data/cutover-1.mdf' },
      { logicalName: "shop's log", path: '/log/cutover-2.ldf' },
    ];
    expect(restoreDatabase('shop__cutover_tmp_partial', '/b/x.bak', moves)).toEqual({
      text:
        "RESTORE DATABASE [shop__cutover_tmp_partial] FROM DISK = N'/b/x.bak' WITH MOVE N'shop' TO N'/data/cutover-1.mdf', " +
        "MOVE N'shop''s log' TO N'/log/cutover-2.ldf', RECOVERY, CHECKSUM, STATS = 10;",
    });
  });

  test('Azure SQL: CREATE DATABASE … AS COPY OF, alone in its batch', () => {
    expect(copyOf('shop__cutover_tmp_partial', 'shop')).toEqual({ text: 'CREATE DATABASE [shop__cutover_tmp_partial] AS COPY OF [shop];' });
    expect(copyOf('a]b', HOSTILE).text).toBe(`CREATE DATABASE [a]]b] AS COPY OF ${HOSTILE_QUOTED};`);
  });

  test('best-effort removal of the backup file', () => {
    expect(deleteBackupFile("/b/it's.bak")).toEqual({ text: "EXEC master.dbo.xp_delete_file 0, N'/b/it''s.bak';" });
  });

  test('file names on the server never carry the database name; paths keep the directory separator', () => {
    expect(backupFileName(HOSTILE)).toMatch(/^cutover-[0-9a-f]{16}\.bak$/);
    expect(backupFileName('shop')).toBe(backupFileName('shop'));
    expect(restoredFileName(HOSTILE, 'n0nce', { type: 'D', fileId: 1 })).toMatch(/^cutover-[0-9a-f]{16}-n0nce-1\.mdf$/);
    expect(restoredFileName('shop', 'n', { type: 'D', fileId: 3 })).toMatch(/-n-3\.ndf$/);
    expect(restoredFileName('shop', 'n', { type: 'L', fileId: 2 })).toMatch(/-n-2\.ldf$/);
    expect(restoredFileName('shop', 'n', { type: 'S', fileId: 65537 })).toMatch(/-n-65537$/);
    expect(snapshotFileName('shop__cutover_rp', 'n', 1)).toMatch(/^cutover-[0-9a-f]{16}-n-1\.ss$/);
    expect(serverPath('/var/opt/mssql/data', 'x.mdf')).toBe('/var/opt/mssql/data/x.mdf');
    expect(serverPath('/var/opt/mssql/data/', 'x.mdf')).toBe('/var/opt/mssql/data/x.mdf');
    expect(serverPath('C:\\SQL\\Data', 'x.mdf')).toBe('C:\\SQL\\Data\\x.mdf');
    expect(serverPath('C:\\SQL\\Data\\', 'x.mdf')).toBe('C:\\SQL\\Data\\x.mdf');
    expect(directoryOf('C:\\SQL\\Data\\shop.mdf')).toBe('C:\\SQL\\Data');
    expect(directoryOf('/var/opt/mssql/data/shop.mdf')).toBe('/var/opt/mssql/data');
  });
});

describe('T-SQL of read-only copies and restore points', () => {
  test('READ_ONLY WITH ROLLBACK IMMEDIATE', () => {
    expect(setReadOnly('shop__cutover_tmp')).toEqual({ text: 'ALTER DATABASE [shop__cutover_tmp] SET READ_ONLY WITH ROLLBACK IMMEDIATE;' });
    expect(setReadOnly(HOSTILE).text).toBe(`ALTER DATABASE ${HOSTILE_QUOTED} SET READ_ONLY WITH ROLLBACK IMMEDIATE;`);
  });

  test('data files of the original, by parameter', () => {
    expect(dataFilesQuery(HOSTILE)).toEqual({
      text:
        'SELECT name AS logicalName, file_id AS fileId, physical_name AS physicalName FROM sys.master_files ' +
        'WHERE database_id = DB_ID(@database) AND type = 0 ORDER BY file_id;',
      params: { database: HOSTILE },
    });
  });

  test('a snapshot with one sparse file per data file, and the revert to it', () => {
    const files = [
      { logicalName: 'shop', path: '/data/a.ss' },
      { logicalName: "shop's 2nd", path: '/data/b.ss' },
    ];
    expect(createSnapshot('shop__cutover_rp', 'shop', files)).toEqual({
      text:
        "CREATE DATABASE [shop__cutover_rp] ON (NAME = N'shop', FILENAME = N'/data/a.ss'), " +
        "(NAME = N'shop''s 2nd', FILENAME = N'/data/b.ss') AS SNAPSHOT OF [shop];",
    });
    expect(revertToSnapshot('shop', 'shop__cutover_rp')).toEqual({
      text: "RESTORE DATABASE [shop] FROM DATABASE_SNAPSHOT = N'shop__cutover_rp';",
    });
    expect(revertToSnapshot(HOSTILE, "o'rp").text).toBe(`RESTORE DATABASE ${HOSTILE_QUOTED} FROM DATABASE_SNAPSHOT = N'o''rp';`);
  });
});

describe('T-SQL of migrations', () => {
  const lock = (owner: string) =>
    "DECLARE @lock int;\nEXEC @lock = sp_getapplock @Resource = N'cutover_migrations', " +
    `@LockMode = N'Exclusive', @LockOwner = N'${owner}', @LockTimeout = -1;\n` +
    "IF @lock < 0 THROW 51000, N'Cutover could not lock the migration history', 1;";

  test('the history table: created once, under the lock, with a binary-collated name key', () => {
    expect(ensureHistory.text).toBe(
      `SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n${lock('Transaction')}\nIF OBJECT_ID(N'dbo.cutover_migrations', N'U') IS NULL\n` +
        '  CREATE TABLE dbo.cutover_migrations (\n' +
        '    name nvarchar(255) COLLATE Latin1_General_BIN2 NOT NULL CONSTRAINT cutover_migrations_pk PRIMARY KEY,\n' +
        '    checksum char(64) NOT NULL,\n' +
        '    applied_at datetime2(3) NOT NULL CONSTRAINT cutover_migrations_applied_at DEFAULT SYSUTCDATETIME()\n' +
        '  );\nCOMMIT TRANSACTION;',
    );
  });

  test('one migration, one transaction: begin under the lock, check the depth, record, commit or roll back', () => {
    expect(beginMigration.text).toBe(`SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n${lock('Transaction')}`);
    expect(lockMigrationsForSession.text).toBe(`SET XACT_ABORT ON;\n${lock('Session')}`);
    expect(transactionState.text).toBe('SELECT @@TRANCOUNT AS depth, XACT_STATE() AS state;');
    expect(commitMigration.text).toBe('COMMIT TRANSACTION;');
    expect(rollbackIfOpen.text).toBe('IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;');
  });

  test('history reads and writes take names and checksums as parameters', () => {
    expect(recordedChecksums).toEqual({ text: 'SELECT name, checksum FROM dbo.cutover_migrations;' });
    expect(recordedChecksumOf("0001_x'.sql")).toEqual({
      text: 'SELECT checksum FROM dbo.cutover_migrations WHERE name = @name;',
      params: { name: "0001_x'.sql" },
    });
    expect(recordMigration('0001_x.sql', 'ab'.repeat(32))).toEqual({
      text: 'INSERT INTO dbo.cutover_migrations (name, checksum) VALUES (@name, @checksum);',
      params: { name: '0001_x.sql', checksum: 'ab'.repeat(32) },
    });
    expect(appliedMigrationsQuery.text).toBe(
      "IF OBJECT_ID(N'dbo.cutover_migrations', N'U') IS NOT NULL SELECT name FROM dbo.cutover_migrations ORDER BY name;",
    );
  });
});
