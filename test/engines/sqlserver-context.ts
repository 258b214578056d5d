import { randomBytes } from 'node:crypto';
import { freePort } from '../../src/process/free-port.js';
import type { DatabaseHandle, DatabaseRole } from '../../src/engines/engine.js';
import { createSqlServerEngine } from '../../src/engines/sqlserver.js';
import { splitBatches } from '../../src/engines/sqlserver/batches.js';
import { settingsOf } from '../../src/engines/sqlserver/connection-url.js';
import { quoteName, unicodeLiteral } from '../../src/engines/sqlserver/identifiers.js';
import { connectMssql } from '../../src/engines/sqlserver/mssql-session.js';
import type { SqlSession } from '../../src/engines/sqlserver/session.js';
import type { DatabaseKind, EngineContractContext, EngineDialect, Session } from './contract.js';

export const sqlServerDialect: EngineDialect = {
  seed: (rows) => `
    CREATE TABLE items (id bigint IDENTITY(1,1) PRIMARY KEY, note nvarchar(200) NOT NULL, created_at datetime2 NOT NULL DEFAULT SYSUTCDATETIME());
    CREATE INDEX items_note ON items (note);
    CREATE TABLE item_log (id bigint IDENTITY(1,1) PRIMARY KEY, item_id bigint NOT NULL REFERENCES items (id), message nvarchar(200) NOT NULL);
    CREATE TABLE counters (name nvarchar(50) PRIMARY KEY, n bigint NOT NULL);
    INSERT INTO counters VALUES (N'writes', 0);
    INSERT INTO items (note) SELECT TOP (${rows}) CONCAT(N'seed ', ROW_NUMBER() OVER (ORDER BY (SELECT NULL)))
      FROM sys.all_columns a CROSS JOIN sys.all_columns b;
    INSERT INTO item_log (item_id, message) SELECT id, N'created' FROM items;
    GO
    CREATE VIEW item_summary AS SELECT COUNT_BIG(*) AS items FROM dbo.items;`,
  writeTransaction: (note) => `
    SET XACT_ABORT ON;
    BEGIN TRANSACTION;
    INSERT INTO items (note) VALUES (${unicodeLiteral(note)});
    INSERT INTO item_log (item_id, message) VALUES (SCOPE_IDENTITY(), N'created');
    UPDATE counters SET n = n + 1 WHERE name = N'writes';
    COMMIT TRANSACTION;`,
  consistency: `
    SELECT (SELECT COUNT_BIG(*) FROM items) AS items,
           (SELECT COUNT_BIG(*) FROM item_log) AS logs,
           (SELECT COUNT_BIG(*) FROM item_log l WHERE NOT EXISTS (SELECT 1 FROM items i WHERE i.id = l.item_id)) AS orphans,
           (SELECT n FROM counters WHERE name = N'writes') AS counter;`,
  schemaSignature: `
    SELECT N'column' AS kind, CONCAT(TABLE_NAME, N'.', COLUMN_NAME) AS name, CONCAT(DATA_TYPE, N' ', COALESCE(COLUMN_DEFAULT, N'')) AS definition
      FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = N'dbo'
    UNION ALL
    SELECT N'index', CONCAT(t.name, N'.', i.name), i.type_desc FROM sys.indexes i JOIN sys.tables t ON t.object_id = i.object_id
      WHERE i.name IS NOT NULL AND t.is_ms_shipped = 0
    UNION ALL
    SELECT N'view', v.name, OBJECT_DEFINITION(v.object_id) FROM sys.views v
    ORDER BY 1, 2;`,
  insertUsingGenerator: `INSERT INTO items (note) VALUES (N'needs the identity');`,
  // A session cannot leave a READ_ONLY database's state: these are the closest a session can try.
  readOnlyEscapes: ['SET TRANSACTION ISOLATION LEVEL READ COMMITTED;', 'BEGIN TRANSACTION;'],
  endAttempt: 'IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;',
  writes: {
    INSERT: `INSERT INTO items (note) VALUES (N'refused');`,
    UPDATE: `UPDATE items SET note = N'refused' WHERE id = 1;`,
    DELETE: 'DELETE FROM item_log WHERE item_id = 1;',
    TRUNCATE: 'TRUNCATE TABLE item_log;',
  },
  createWidgets: 'CREATE TABLE widgets (id int PRIMARY KEY, label nvarchar(100) NOT NULL);',
  insertWidget: `INSERT INTO widgets VALUES (1, N'first');`,
  // The new column is only visible to the next batch: GO is part of the test.
  changeItems: `ALTER TABLE items ADD tagline nvarchar(100) NULL;\nGO\nUPDATE items SET tagline = N'new';\nDELETE FROM item_log WHERE id % 2 = 0;`,
  failingMigration: (table) => ({
    sql: `CREATE TABLE ${table} (id int);\nINSERT INTO ${table} VALUES (1);\nSELECT * FROM no_such_table;`,
    error: /Invalid object name 'no_such_table'\. \(error 208\) at line 3/,
  }),
  tableExists: (table) => `SELECT CASE WHEN OBJECT_ID(${unicodeLiteral(`dbo.${table}`)}, N'U') IS NULL THEN 0 ELSE 1 END AS found;`,
  history: 'SELECT name, checksum FROM dbo.cutover_migrations ORDER BY name;',
};

const suffixes: Record<string, DatabaseKind> = {
  '': 'original',
  __cutover_tmp: 'temporary',
  __cutover_tmp_partial: 'work-in-progress',
  __cutover_rp: 'restore-point',
  __cutover_rp_partial: 'work-in-progress',
};

/** Runs a script the way the engine runs migrations: batch by batch, split on GO; answers with the last result set. */
async function runScript(session: SqlSession, sql: string): Promise<Record<string, unknown>[]> {
  let rows: Record<string, unknown>[] = [];
  for (const batch of splitBatches(sql)) for (let i = 0; i < batch.repeat; i++) rows = await session.run({ text: batch.text });
  return rows;
}

/**
 * A context on the real SQL Server named by MSSQL_URL (a login with dbcreator and BACKUP/RESTORE rights, or sa);
 * every database it creates has a unique name and is dropped afterwards.
 */
export async function makeSqlServerContext(adminUrl: string): Promise<EngineContractContext> {
  const config = { name: 'shop', engine: 'sqlserver' as const, connectionEnv: 'MSSQL_URL' };
  const adminHandle: DatabaseHandle = { config, connectionString: adminUrl };
  const settings = settingsOf(adminHandle);
  const engine = createSqlServerEngine({ backupDirectory: process.env.MSSQL_BACKUP_DIR || undefined });
  const admin = await connectMssql(adminHandle, 'master');
  const profile = await admin.run<{ edition: number }>({ text: "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS edition;" });
  const azure = Number(profile[0]?.edition) === 5;

  const handleFor = (database: string, port?: number): DatabaseHandle => {
    const url = new URL(adminUrl);
    url.pathname = '/' + encodeURIComponent(database);
    if (port !== undefined) url.port = String(port);
    return { config, connectionString: url.toString() };
  };
  const originalOf = (db: DatabaseHandle) => settingsOf(db).database;
  const physicalOf = (db: DatabaseHandle) => Object.keys(suffixes).map((suffix) => originalOf(db) + suffix);
  const dropIfExists = async (name: string) => {
    const [row] = await admin.run<{ state: string; snapshot: number }>({
      text: 'SELECT state_desc AS state, CASE WHEN source_database_id IS NULL THEN 0 ELSE 1 END AS snapshot FROM sys.databases WHERE name = @name;',
      params: { name },
    });
    if (!row) return;
    const force = !azure && row.state === 'ONLINE' && Number(row.snapshot) === 0;
    await admin.run({
      text: `${force ? `ALTER DATABASE ${quoteName(name)} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\n` : ''}DROP DATABASE ${quoteName(name)};`,
    });
  };

  const connect = async (db: DatabaseHandle, role: DatabaseRole): Promise<Session> => {
    const physical = settingsOf({ config, connectionString: engine.connectionStringFor(db, role) }).database;
    const session = await connectMssql(db, physical);
    return { query: (sql) => runScript(session, sql), close: () => session.close() };
  };

  return {
    engine,
    dialect: sqlServerDialect,
    password: settings.password,
    canFollow: false,
    async createDatabase({ hostileName = false } = {}) {
      const unique = `t_${randomBytes(5).toString('hex')}`;
      const name = hostileName ? `${unique} ]Quo'ted" [x] Ünï` : unique;
      await admin.run({ text: `CREATE DATABASE ${quoteName(name)};` });
      return handleFor(name);
    },
    missingDatabase: () => handleFor(`t_missing_${randomBytes(5).toString('hex')}`),
    unreachableDatabase: async () => handleFor('t_unreachable', await freePort()),
    connect,
    async simulateInterruptedCopy(db) {
      const partial = `${originalOf(db)}__cutover_tmp_partial`;
      await admin.run({ text: `CREATE DATABASE ${quoteName(partial)};` });
      const session = await connectMssql(db, partial);
      try {
        await session.run({ text: 'CREATE TABLE half_restored (id int); INSERT INTO half_restored VALUES (1);' });
      } finally {
        await session.close();
      }
    },
    async simulateInterruptedRestore(db) {
      const [row] = await admin.run<{ snapshot: number }>({
        text: 'SELECT CASE WHEN source_database_id IS NULL THEN 0 ELSE 1 END AS snapshot FROM sys.databases WHERE name = @name;',
        params: { name: `${originalOf(db)}__cutover_rp` },
      });
      // A database with a snapshot cannot be dropped by anyone: reverting to a snapshot never leaves the original missing.
      if (Number(row?.snapshot) === 1)
        return 'the restore point is a database snapshot, and a database that has one cannot be dropped: a restore never leaves the original missing';
      await dropIfExists(originalOf(db));
      return undefined;
    },
    async databasesOf(db) {
      const names = physicalOf(db);
      const rows = await admin.run<{ name: string }>({
        text: `SELECT name FROM sys.databases WHERE name IN (${names.map((_, i) => `@n${i}`).join(', ')});`,
        params: Object.fromEntries(names.map((n, i) => [`n${i}`, n])),
      });
      const original = originalOf(db);
      return rows.map((r) => suffixes[r.name.slice(original.length)] as DatabaseKind).sort();
    },
    async dispose(db) {
      // Snapshots first: a database that has one cannot be dropped.
      for (const suffix of ['__cutover_rp', '__cutover_rp_partial', '__cutover_tmp', '__cutover_tmp_partial', ''])
        await dropIfExists(originalOf(db) + suffix);
    },
    close: () => admin.close(),
  };
}
