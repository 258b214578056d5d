/**
 * Every T-SQL statement the SQL Server engine sends, operation by operation, in order: the engine runs
 * against a scripted server (support/fake-sqlserver.ts) that records what it receives.
 */
import { describe, expect, test } from 'vitest';
import { EngineError, type DatabaseHandle, type Migration } from '../../src/engines/engine.js';
import { createSqlServerEngine, type SqlServerEngineOptions } from '../../src/engines/sqlserver.js';
import { checksumOf } from '../../src/engines/migration-set.js';
import { fileTag } from '../../src/engines/sqlserver/statements/files.js';
import { operationLockResource } from '../../src/engines/sqlserver/statements/lock.js';
import { FakeSqlServer, sqlError, type Sent } from './support/fake-sqlserver.js';

const PASSWORD = "s3cr]t p@ss'word";
const shop = { name: 'shop', engine: 'sqlserver' as const, connectionEnv: 'SHOP_DATABASE_URL' };
const handle = (config: Partial<DatabaseHandle['config']> = {}): DatabaseHandle => ({
  config: { ...shop, ...config },
  connectionString: `sqlserver://cutover:${encodeURIComponent(PASSWORD)}@db.internal:1433/shop?encrypt=true&trustServerCertificate=true`,
});
const engineOn = (server: FakeSqlServer, options: SqlServerEngineOptions = {}) =>
  createSqlServerEngine({ connect: server.connect, nonce: () => 'n0nce', pollIntervalMs: 0, ...options });

const AZURE = { engineEdition: 5, dataPath: null, logPath: null, backupPath: null };
const tag = fileTag;
const BACKUP_DIR = '/var/opt/mssql/backup';

// The statements every locked operation starts and ends with.
const LOCK =
  `DECLARE @result int;\nEXEC @result = sp_getapplock @Resource = N'${operationLockResource('shop')}', ` +
  "@LockMode = N'Exclusive', @LockOwner = N'Session', @LockTimeout = 0;\nSELECT @result AS result;";
const UNLOCK = `EXEC sp_releaseapplock @Resource = N'${operationLockResource('shop')}', @LockOwner = N'Session';`;
const PROFILE =
  "SELECT CAST(SERVERPROPERTY('EngineEdition') AS int) AS engineEdition, " +
  "CAST(SERVERPROPERTY('InstanceDefaultDataPath') AS nvarchar(4000)) AS dataPath, " +
  "CAST(SERVERPROPERTY('InstanceDefaultLogPath') AS nvarchar(4000)) AS logPath, " +
  "CAST(SERVERPROPERTY('InstanceDefaultBackupPath') AS nvarchar(4000)) AS backupPath;";
const states = (...names: string[]): Sent => ({
  database: 'master',
  text:
    'SELECT name, state_desc AS state, CAST(is_read_only AS int) AS readOnly, ' +
    'CASE WHEN source_database_id IS NULL THEN 0 ELSE 1 END AS snapshot ' +
    `FROM sys.databases WHERE name IN (${names.map((_, i) => `@name${i}`).join(', ')});`,
  params: Object.fromEntries(names.map((n, i) => [`name${i}`, n])),
});
const onMaster = (text: string): Sent => ({ database: 'master', text });
const SESSIONS =
  "SELECT COALESCE(NULLIF(program_name, N''), N'(unnamed)') AS program, login_name AS login FROM sys.dm_exec_sessions " +
  'WHERE database_id = DB_ID() AND session_id <> @@SPID AND is_user_process = 1;';

/** BACKUP, FILELISTONLY, RESTORE WITH MOVE and the clean-up of one backup-restore copy. */
function backupRestore(source: string, target: string, directory = BACKUP_DIR): Sent[] {
  const file = `${directory}/cutover-${tag(source)}.bak`;
  return [
    onMaster(`BACKUP DATABASE [${source}] TO DISK = N'${file}' WITH COPY_ONLY, INIT, FORMAT, CHECKSUM, STATS = 10;`),
    onMaster(`RESTORE FILELISTONLY FROM DISK = N'${file}';`),
    onMaster(
      `RESTORE DATABASE [${target}] FROM DISK = N'${file}' WITH MOVE N'shop' TO N'/var/opt/mssql/data/cutover-${tag(target)}-n0nce-1.mdf', ` +
        `MOVE N'shop''s log' TO N'/var/opt/mssql/log/cutover-${tag(target)}-n0nce-2.ldf', RECOVERY, CHECKSUM, STATS = 10;`,
    ),
    onMaster(`EXEC master.dbo.xp_delete_file 0, N'${file}';`),
  ];
}

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (error) {
    expect(String(error) + JSON.stringify(error)).not.toContain(PASSWORD);
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('copy to the temporary database', () => {
  test('SQL Server: BACKUP WITH COPY_ONLY, RESTORE WITH MOVE under the _partial name, rename into place; then a no-op', async () => {
    const server = new FakeSqlServer({ shop: {} });
    const beats: unknown[] = [];
    await engineOn(server).copyToTemporary(handle(), (d) => beats.push(d));
    expect(server.sent).toEqual([
      onMaster(LOCK),
      onMaster(PROFILE),
      states('shop', 'shop__cutover_tmp'),
      states('shop__cutover_tmp'),
      states('shop__cutover_tmp_partial'),
      ...backupRestore('shop', 'shop__cutover_tmp_partial'),
      onMaster('ALTER DATABASE [shop__cutover_tmp_partial] MODIFY NAME = [shop__cutover_tmp];'),
      onMaster(UNLOCK),
    ]);
    expect(beats).toContainEqual({ step: 'clone', stage: 'backup' });
    expect(beats).toContainEqual({ step: 'clone', stage: 'restore' });

    server.sent.length = 0;
    await engineOn(server).copyToTemporary(handle(), () => undefined);
    expect(server.sent).toEqual([onMaster(LOCK), onMaster(PROFILE), states('shop', 'shop__cutover_tmp'), onMaster(UNLOCK)]);
  });

  test('leftovers of a crashed copy are dropped first: an ONLINE _partial by force, a half-restored temporary plainly', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_tmp: { state: 'RESTORING' }, shop__cutover_tmp_partial: {} });
    await engineOn(server).copyToTemporary(handle(), () => undefined);
    expect(server.texts()).toContain('DROP DATABASE [shop__cutover_tmp];');
    expect(server.texts()).toContain(
      'ALTER DATABASE [shop__cutover_tmp_partial] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\nDROP DATABASE [shop__cutover_tmp_partial];',
    );
    expect([...server.databases.keys()].sort()).toEqual(['shop', 'shop__cutover_tmp']);
  });

  test('the backup directory comes from the options when given, with its own separator', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.profile = { engineEdition: 2, dataPath: 'D:\\Data\\', logPath: 'E:\\Logs', backupPath: null };
    await engineOn(server, { backupDirectory: 'F:\\Backups' }).copyToTemporary(handle(), () => undefined);
    const file = `F:\\Backups\\cutover-${tag('shop')}.bak`;
    expect(server.texts()).toContain(`BACKUP DATABASE [shop] TO DISK = N'${file}' WITH COPY_ONLY, INIT, FORMAT, CHECKSUM, STATS = 10;`);
    expect(server.texts()).toContain(
      `RESTORE DATABASE [shop__cutover_tmp_partial] FROM DISK = N'${file}' ` +
        `WITH MOVE N'shop' TO N'D:\\Data\\cutover-${tag('shop__cutover_tmp_partial')}-n0nce-1.mdf', ` +
        `MOVE N'shop''s log' TO N'E:\\Logs\\cutover-${tag('shop__cutover_tmp_partial')}-n0nce-2.ldf', RECOVERY, CHECKSUM, STATS = 10;`,
    );
  });

  test('without any backup directory the copy is refused as invalid input, before any BACKUP', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.profile = { engineEdition: 3, dataPath: null, logPath: null, backupPath: null };
    const error = await failure(() => engineOn(server).copyToTemporary(handle(), () => undefined));
    expect(error).toMatchObject({ failureClass: 'invalid-input' });
    expect(error.message).toMatch(/no default backup directory/);
    expect(server.texts().some((t) => t.startsWith('BACKUP'))).toBe(false);
  });

  test('a failing BACKUP is reported with the server’s cause and conclusion; nothing is left behind', async () => {
    const server = new FakeSqlServer({ shop: {} });
    const backupFailed = Object.assign(sqlError(3013, 'BACKUP DATABASE is terminating abnormally.'), {
      precedingErrors: [
        sqlError(3201, "Cannot open backup device '/var/opt/mssql/backup/x.bak'. Operating system error 5(Access is denied.)."),
      ],
    });
    server.fail(/^BACKUP DATABASE/, backupFailed);
    const error = await failure(() => engineOn(server).copyToTemporary(handle(), () => undefined));
    expect(error.message).toBe(
      "cannot copy the database to its temporary copy (database shop): Cannot open backup device '/var/opt/mssql/backup/x.bak'. " +
        'Operating system error 5(Access is denied.).; BACKUP DATABASE is terminating abnormally. (error 3013)',
    );
    expect(server.texts().at(-1)).toBe(UNLOCK);
    expect([...server.databases.keys()]).toEqual(['shop']);
  });

  test('Azure SQL: CREATE DATABASE AS COPY OF, polled until ONLINE with a heartbeat each time, then renamed', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.profile = AZURE;
    server.copyStates = ['COPYING', 'ONLINE'];
    const beats: unknown[] = [];
    await engineOn(server).copyToTemporary(handle(), (d) => beats.push(d));
    expect(server.sent).toEqual([
      onMaster(LOCK),
      onMaster(PROFILE),
      states('shop', 'shop__cutover_tmp'),
      states('shop__cutover_tmp'),
      states('shop__cutover_tmp_partial'),
      onMaster('CREATE DATABASE [shop__cutover_tmp_partial] AS COPY OF [shop];'),
      states('shop__cutover_tmp_partial'),
      states('shop__cutover_tmp_partial'),
      states('shop__cutover_tmp_partial'),
      onMaster('ALTER DATABASE [shop__cutover_tmp_partial] MODIFY NAME = [shop__cutover_tmp];'),
      onMaster(UNLOCK),
    ]);
    expect(beats.length).toBeGreaterThan(0);
    expect(beats[0]).toMatchObject({ step: 'clone' });
  });

  test('Azure SQL: a copy that ends SUSPECT is dropped and reported as transient', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.profile = AZURE;
    server.copyStates = ['SUSPECT'];
    const error = await failure(() => engineOn(server).copyToTemporary(handle(), () => undefined));
    expect(error).toMatchObject({ failureClass: 'transient' });
    expect(error.message).toMatch(/the copy "shop__cutover_tmp_partial" ended in state SUSPECT and was dropped/);
    expect(server.texts()).toContain('DROP DATABASE [shop__cutover_tmp_partial];');
    expect([...server.databases.keys()]).toEqual(['shop']);
  });

  test('a copy method the server lacks is a configuration error, named', async () => {
    const box = new FakeSqlServer({ shop: {} });
    const copyOf = await failure(() => engineOn(box).copyToTemporary(handle({ copyMethod: 'copy-of' }), () => undefined));
    expect(copyOf).toMatchObject({ failureClass: 'invalid-input' });
    expect(copyOf.message).toMatch(/copyMethod copy-of .* exists only on Azure SQL Database: use backup-restore/);
    const azure = new FakeSqlServer({ shop: {} });
    azure.profile = AZURE;
    const backup = await failure(() => engineOn(azure).copyToTemporary(handle({ copyMethod: 'backup-restore' }), () => undefined));
    expect(backup.message).toMatch(/copyMethod backup-restore needs BACKUP to disk, which Azure SQL Database does not have: use copy-of/);
  });

  test('another operation holding the lock makes the copy a transient failure, with nothing sent after the lock', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.lockHeld = true;
    const error = await failure(() => engineOn(server).copyToTemporary(handle(), () => undefined));
    expect(error).toMatchObject({ failureClass: 'transient' });
    expect(error.message).toMatch(/another Cutover operation on database "shop" is still running/);
    expect(server.texts()).toEqual([LOCK]);
  });

  test('a missing original is reported, not copied', async () => {
    const server = new FakeSqlServer({});
    const error = await failure(() => engineOn(server).copyToTemporary(handle(), () => undefined));
    expect(error.message).toMatch(/database "shop" does not exist or is not online/);
  });
});

describe('read-only copy', () => {
  test('ALTER DATABASE … SET READ_ONLY WITH ROLLBACK IMMEDIATE, once', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_tmp: {} });
    await engineOn(server).makeTemporaryReadOnly(handle());
    await engineOn(server).makeTemporaryReadOnly(handle());
    expect(server.sent).toEqual([
      states('shop__cutover_tmp'),
      onMaster('ALTER DATABASE [shop__cutover_tmp] SET READ_ONLY WITH ROLLBACK IMMEDIATE;'),
      states('shop__cutover_tmp'),
    ]);
  });

  test('without a temporary copy it fails, naming it', async () => {
    const error = await failure(() => engineOn(new FakeSqlServer({ shop: {} })).makeTemporaryReadOnly(handle()));
    expect(error.message).toMatch(/the temporary copy "shop__cutover_tmp" does not exist/);
  });
});

describe('restore point', () => {
  test('SQL Server: nobody connected, then a database snapshot with one sparse file per data file; then a no-op', async () => {
    const server = new FakeSqlServer({ shop: {} });
    await engineOn(server).createRestorePoint(handle(), () => undefined);
    expect(server.sent).toEqual([
      onMaster(LOCK),
      onMaster(PROFILE),
      states('shop', 'shop__cutover_rp'),
      { database: 'shop', text: SESSIONS },
      states('shop__cutover_rp'),
      {
        database: 'master',
        text:
          'SELECT name AS logicalName, file_id AS fileId, physical_name AS physicalName FROM sys.master_files ' +
          'WHERE database_id = DB_ID(@database) AND type = 0 ORDER BY file_id;',
        params: { database: 'shop' },
      },
      onMaster(
        `CREATE DATABASE [shop__cutover_rp] ON (NAME = N'shop', ` +
          `FILENAME = N'/var/opt/mssql/data/cutover-${tag('shop__cutover_rp')}-n0nce-1.ss') AS SNAPSHOT OF [shop];`,
      ),
      onMaster(UNLOCK),
    ]);
    server.sent.length = 0;
    await engineOn(server).createRestorePoint(handle(), () => undefined);
    expect(server.texts()).toEqual([LOCK, PROFILE, states('shop', 'shop__cutover_rp').text, UNLOCK]);
  });

  test('without a default data path the snapshot files go next to the original’s', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.profile = { engineEdition: 3, dataPath: null, logPath: null, backupPath: '/b' };
    await engineOn(server).createRestorePoint(handle(), () => undefined);
    expect(server.texts()).toContain(
      `CREATE DATABASE [shop__cutover_rp] ON (NAME = N'shop', ` +
        `FILENAME = N'D:\\SQL\\Data\\cutover-${tag('shop__cutover_rp')}-n0nce-1.ss') AS SNAPSHOT OF [shop];`,
    );
  });

  test('refused, not forced, while a session is connected to the original', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.sessions.set('shop', [{ program: 'web', login: 'app' }]);
    const error = await failure(() => engineOn(server).createRestorePoint(handle(), () => undefined));
    expect(error).toMatchObject({ failureClass: 'transient' });
    expect(error.message).toBe('cannot take a restore point of "shop": 1 session(s) (web as app) still connected to "shop"');
    expect(server.texts().some((t) => t.startsWith('CREATE DATABASE') || t.includes('SINGLE_USER'))).toBe(false);
  });

  test('a session that is just closing is waited for briefly, not taken for a user', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.sessions.set('shop', [{ program: 'cutover', login: 'cutover' }]);
    setTimeout(() => server.sessions.delete('shop'), 100);
    await engineOn(server).createRestorePoint(handle(), () => undefined);
    expect(server.texts().filter((t) => t === SESSIONS).length).toBeGreaterThan(1);
    expect(server.databases.get('shop__cutover_rp')).toMatchObject({ snapshot: true });
  });

  test('a server that cannot take the snapshot gets a pre-migration copy instead', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.fail(/AS SNAPSHOT OF/, sqlError(1844, 'Database Snapshot is not supported on this edition of SQL Server.'));
    await engineOn(server).createRestorePoint(handle(), () => undefined);
    const after = server.sent.slice(server.texts().findIndex((t) => t.includes('AS SNAPSHOT OF')) + 1);
    expect(after).toEqual([
      states('shop__cutover_rp'),
      states('shop__cutover_rp_partial'),
      ...backupRestore('shop', 'shop__cutover_rp_partial'),
      onMaster('ALTER DATABASE [shop__cutover_rp_partial] MODIFY NAME = [shop__cutover_rp];'),
      onMaster(UNLOCK),
    ]);
    expect(server.databases.get('shop__cutover_rp')).toMatchObject({ snapshot: false });
  });

  test('Azure SQL: a pre-migration copy (no snapshots, no BACKUP there)', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.profile = AZURE;
    await engineOn(server).createRestorePoint(handle(), () => undefined);
    expect(server.texts()).toContain('CREATE DATABASE [shop__cutover_rp_partial] AS COPY OF [shop];');
    expect(server.texts()).toContain('ALTER DATABASE [shop__cutover_rp_partial] MODIFY NAME = [shop__cutover_rp];');
    expect(server.texts().some((t) => t.includes('SNAPSHOT') || t.startsWith('BACKUP'))).toBe(false);
  });

  test('restore from a snapshot: RESTORE … FROM DATABASE_SNAPSHOT, repeatable; the snapshot stays', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_rp: { snapshot: true, readOnly: true } });
    const beats: unknown[] = [];
    await engineOn(server).restoreFromRestorePoint(handle(), (d) => beats.push(d));
    expect(server.sent).toEqual([
      onMaster(LOCK),
      onMaster(PROFILE),
      states('shop', 'shop__cutover_rp'),
      { database: 'shop', text: SESSIONS },
      onMaster("RESTORE DATABASE [shop] FROM DATABASE_SNAPSHOT = N'shop__cutover_rp';"),
      onMaster(UNLOCK),
    ]);
    expect(beats).toEqual([{ step: 'restore', stage: 'revert' }]);
    await engineOn(server).restoreFromRestorePoint(handle(), () => undefined);
    expect(server.databases.has('shop__cutover_rp')).toBe(true);
  });

  test('restore from a copy: the original is dropped (not forced) and the copy restored under its name', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_rp: {} });
    await engineOn(server).restoreFromRestorePoint(handle(), () => undefined);
    expect(server.sent).toEqual([
      onMaster(LOCK),
      onMaster(PROFILE),
      states('shop', 'shop__cutover_rp'),
      { database: 'shop', text: SESSIONS },
      states('shop'),
      onMaster('DROP DATABASE [shop];'),
      ...backupRestore('shop__cutover_rp', 'shop'),
      onMaster(UNLOCK),
    ]);
  });

  test('a restore interrupted after the original was dropped (or left RESTORING) is finished from the copy', async () => {
    for (const original of [undefined, { state: 'RESTORING' }]) {
      const server = new FakeSqlServer({ shop__cutover_rp: {}, ...(original ? { shop: original } : {}) });
      await engineOn(server).restoreFromRestorePoint(handle(), () => undefined);
      expect(server.texts().some((t) => t.includes('sys.dm_exec_sessions'))).toBe(false);
      expect(server.databases.get('shop')).toMatchObject({ state: 'ONLINE' });
    }
  });

  test('restore is refused while connected, and without a restore point', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_rp: { snapshot: true } });
    server.sessions.set('shop', [
      { program: '(unnamed)', login: 'app' },
      { program: '(unnamed)', login: 'app' },
    ]);
    const connected = await failure(() => engineOn(server).restoreFromRestorePoint(handle(), () => undefined));
    expect(connected).toMatchObject({
      failureClass: 'transient',
      message: 'cannot restore "shop": 2 session(s) ((unnamed) as app) still connected to "shop"',
    });
    const none = await failure(() => engineOn(new FakeSqlServer({ shop: {} })).restoreFromRestorePoint(handle(), () => undefined));
    expect(none).toMatchObject({
      failureClass: 'invalid-input',
      message: 'database "shop" has no restore point ("shop__cutover_rp") to restore from',
    });
  });

  test('the server’s own refusal (3101, exclusive access) is transient too', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_rp: { snapshot: true } });
    server.fail(/FROM DATABASE_SNAPSHOT/, sqlError(3101, 'Exclusive access could not be obtained because the database is in use.'));
    const error = await failure(() => engineOn(server).restoreFromRestorePoint(handle(), () => undefined));
    expect(error).toMatchObject({ failureClass: 'transient' });
  });

  test('dropping a snapshot restore point is a plain DROP (a snapshot takes no ALTER), and idempotent', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_rp: { snapshot: true } });
    await engineOn(server).dropRestorePoint(handle());
    await engineOn(server).dropRestorePoint(handle());
    expect(server.sent).toEqual([
      onMaster(PROFILE),
      states('shop__cutover_rp'),
      onMaster('DROP DATABASE [shop__cutover_rp];'),
      states('shop__cutover_rp_partial'),
      onMaster(PROFILE),
      states('shop__cutover_rp'),
      states('shop__cutover_rp_partial'),
    ]);
  });
});

describe('dropping the temporary copy', () => {
  test('SQL Server: SINGLE_USER WITH ROLLBACK IMMEDIATE then DROP, so a clone left connected cannot keep it; idempotent', async () => {
    const server = new FakeSqlServer({
      shop: {},
      shop__cutover_tmp: { readOnly: true },
      shop__cutover_tmp_partial: { state: 'RESTORING' },
    });
    server.sessions.set('shop__cutover_tmp', [{ program: 'web', login: 'app' }]);
    await engineOn(server).dropTemporary(handle());
    await engineOn(server).dropTemporary(handle());
    expect(server.sent).toEqual([
      onMaster(PROFILE),
      states('shop__cutover_tmp'),
      onMaster('ALTER DATABASE [shop__cutover_tmp] SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\nDROP DATABASE [shop__cutover_tmp];'),
      states('shop__cutover_tmp_partial'),
      onMaster('DROP DATABASE [shop__cutover_tmp_partial];'),
      onMaster(PROFILE),
      states('shop__cutover_tmp'),
      states('shop__cutover_tmp_partial'),
    ]);
    expect([...server.databases.keys()]).toEqual(['shop']);
  });

  test('Azure SQL: a plain DROP (no SINGLE_USER there; the DROP ends the sessions itself)', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_tmp: {} });
    server.profile = AZURE;
    await engineOn(server).dropTemporary(handle());
    expect(server.texts()).toContain('DROP DATABASE [shop__cutover_tmp];');
    expect(server.texts().some((t) => t.includes('SINGLE_USER'))).toBe(false);
  });
});

describe('inspect and ping', () => {
  test('states from master, history from the original; only ONLINE databases count', async () => {
    const server = new FakeSqlServer({ shop: {}, shop__cutover_tmp: { readOnly: true }, shop__cutover_rp: { state: 'RESTORING' } });
    server.history.set('0002_b.sql', 'x').set('0001_a.sql', 'y');
    expect(await engineOn(server).inspect(handle())).toEqual({
      original: { exists: true },
      temporary: { exists: true, readOnly: true, following: false },
      restorePoint: { exists: false },
      appliedMigrations: ['0001_a.sql', '0002_b.sql'],
    });
    expect(server.sent).toEqual([
      states('shop', 'shop__cutover_tmp', 'shop__cutover_rp'),
      {
        database: 'shop',
        text: "IF OBJECT_ID(N'dbo.cutover_migrations', N'U') IS NOT NULL SELECT name FROM dbo.cutover_migrations ORDER BY name;",
      },
    ]);
  });

  test('a missing original is reported as missing, without connecting to it', async () => {
    const server = new FakeSqlServer({});
    expect(await engineOn(server).inspect(handle())).toEqual({
      original: { exists: false },
      temporary: { exists: false, readOnly: false, following: false },
      restorePoint: { exists: false },
      appliedMigrations: [],
    });
    expect(server.sent.map((s) => s.database)).toEqual(['master']);
  });

  test('ping is SELECT 1 on the original', async () => {
    const server = new FakeSqlServer({ shop: {} });
    await engineOn(server).ping(handle());
    expect(server.sent).toEqual([{ database: 'shop', text: 'SELECT 1 AS ok;' }]);
  });
});

describe('migrations', () => {
  const ENSURE_HISTORY_START = 'SET XACT_ABORT ON;\nBEGIN TRANSACTION;\nDECLARE @lock int;';
  const BEGIN =
    'SET XACT_ABORT ON;\nBEGIN TRANSACTION;\nDECLARE @lock int;\n' +
    "EXEC @lock = sp_getapplock @Resource = N'cutover_migrations', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = -1;\n" +
    "IF @lock < 0 THROW 51000, N'Cutover could not lock the migration history', 1;";
  const onShop = (text: string, params?: Record<string, string>): Sent => ({ database: 'shop', text, ...(params ? { params } : {}) });
  const lookup = (name: string) => onShop('SELECT checksum FROM dbo.cutover_migrations WHERE name = @name;', { name });
  const record = (m: Migration) =>
    onShop('INSERT INTO dbo.cutover_migrations (name, checksum) VALUES (@name, @checksum);', { name: m.name, checksum: checksumOf(m.sql) });
  const DEPTH = onShop('SELECT @@TRANCOUNT AS depth, XACT_STATE() AS state;');
  const COMMIT = onShop('COMMIT TRANSACTION;');
  const ROLLBACK = onShop('IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;');

  const widgets: Migration = {
    name: '0001_widgets.sql',
    sql: 'CREATE TABLE widgets (id int PRIMARY KEY);\nGO\nCREATE VIEW widget_ids AS SELECT id FROM widgets;\n',
  };
  const widget: Migration = { name: '0002_widget.sql', sql: 'INSERT INTO widgets VALUES (1);' };

  test('in name order, each in one transaction with its history row; batches split on GO and sent one by one', async () => {
    const server = new FakeSqlServer({ shop: {} });
    const beats: unknown[] = [];
    expect(await engineOn(server).applyMigrations(handle(), [widget, widgets], (d) => beats.push(d))).toEqual({
      applied: ['0001_widgets.sql', '0002_widget.sql'],
      alreadyApplied: [],
    });
    expect(server.sent[0]?.text.startsWith(ENSURE_HISTORY_START)).toBe(true);
    expect(server.sent.slice(1)).toEqual([
      onShop('SELECT name, checksum FROM dbo.cutover_migrations;'),
      onShop(BEGIN),
      lookup('0001_widgets.sql'),
      onShop('CREATE TABLE widgets (id int PRIMARY KEY);\n'),
      onShop('CREATE VIEW widget_ids AS SELECT id FROM widgets;\n'),
      DEPTH,
      record(widgets),
      COMMIT,
      onShop(BEGIN),
      lookup('0002_widget.sql'),
      onShop('INSERT INTO widgets VALUES (1);'),
      DEPTH,
      record(widget),
      COMMIT,
    ]);
    expect(beats).toEqual([
      { step: 'migrate', migration: '0001_widgets.sql' },
      { step: 'migrate', migration: '0002_widget.sql' },
    ]);
  });

  test('applied ones are skipped under the lock; a changed one is refused before anything runs', async () => {
    const server = new FakeSqlServer({ shop: {} });
    await engineOn(server).applyMigrations(handle(), [widgets], () => undefined);
    server.sent.length = 0;
    expect(await engineOn(server).applyMigrations(handle(), [widgets], () => undefined)).toEqual({
      applied: [],
      alreadyApplied: ['0001_widgets.sql'],
    });
    expect(server.sent.slice(2)).toEqual([onShop(BEGIN), lookup('0001_widgets.sql'), ROLLBACK]);

    server.sent.length = 0;
    const error = await failure(() =>
      engineOn(server).applyMigrations(handle(), [{ ...widgets, sql: `${widgets.sql}-- edited` }, widget], () => undefined),
    );
    expect(error).toMatchObject({ failureClass: 'migration-failed' });
    expect(error.message).toMatch(
      /^migration 0001_widgets\.sql was changed after it was applied \(checksum recorded [0-9a-f]{12}…, now [0-9a-f]{12}…\)/,
    );
    expect(server.sent).toHaveLength(2);
  });

  test('a package lacking an applied migration is refused after reading the history, before any batch; allowed, it applies', async () => {
    const server = new FakeSqlServer({ shop: {} });
    await engineOn(server).applyMigrations(handle(), [widgets, widget], () => undefined);
    const tags: Migration = { name: '0003_tags.sql', sql: 'ALTER TABLE widgets ADD tag nvarchar(20) NULL;' };
    server.sent.length = 0;
    const error = await failure(() => engineOn(server).applyMigrations(handle(), [tags, widgets], () => undefined));
    expect(error).toMatchObject({ failureClass: 'migration-failed' });
    expect(error.message).toMatch(/^the database already applied migration 0002_widget\.sql that this package does not have/);
    expect(server.sent.slice(1)).toEqual([onShop('SELECT name, checksum FROM dbo.cutover_migrations;')]);

    server.sent.length = 0;
    expect(await engineOn(server).applyMigrations(handle(), [tags, widgets], () => undefined, { allowMissing: true })).toEqual({
      applied: ['0003_tags.sql'],
      alreadyApplied: ['0001_widgets.sql'],
      missing: ['0002_widget.sql'],
    });
    expect([...server.history.keys()].sort()).toEqual(['0001_widgets.sql', '0002_widget.sql', '0003_tags.sql']);
  });

  test('a failing batch is named with the server error and its line in the file; it is rolled back and nothing after it runs', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.fail(/no_such_table/, sqlError(208, "Invalid object name 'no_such_table'.", 2));
    const broken: Migration = {
      name: '0002_broken.sql',
      sql: 'CREATE TABLE half_done (id int);\nGO\nINSERT INTO half_done VALUES (1);\nSELECT * FROM no_such_table;',
    };
    const error = await failure(() =>
      engineOn(server).applyMigrations(handle(), [broken, widgets, { name: '0003_never.sql', sql: 'SELECT 1;' }], () => undefined),
    );
    expect(error).toMatchObject({ failureClass: 'migration-failed' });
    expect(error.message).toBe("migration 0002_broken.sql failed: Invalid object name 'no_such_table'. (error 208) at line 4");
    expect(server.sent.slice(-4)).toEqual([
      lookup('0002_broken.sql'),
      onShop('CREATE TABLE half_done (id int);\n'),
      onShop('INSERT INTO half_done VALUES (1);\nSELECT * FROM no_such_table;'),
      ROLLBACK,
    ]);
    expect([...server.history.keys()]).toEqual(['0001_widgets.sql']);
  });

  test('a migration that commits itself is refused and not recorded', async () => {
    const server = new FakeSqlServer({ shop: {} });
    const error = await failure(() =>
      engineOn(server).applyMigrations(handle(), [{ name: '0001_commits.sql', sql: 'CREATE TABLE a (id int);\nCOMMIT;' }], () => undefined),
    );
    expect(error).toMatchObject({ failureClass: 'migration-failed' });
    expect(error.message).toMatch(/migration 0001_commits\.sql ended the transaction Cutover runs it in/);
    expect(server.history.size).toBe(0);
  });

  test('-- cutover:no-transaction: no transaction, a session lock instead; GO n repeats a batch', async () => {
    const server = new FakeSqlServer({ shop: {} });
    const m: Migration = {
      name: '0001_fulltext.sql',
      sql: '-- cutover:no-transaction\nCREATE FULLTEXT CATALOG notes_catalog;\nGO\nINSERT INTO t DEFAULT VALUES;\nGO 2\n',
    };
    await engineOn(server).applyMigrations(handle(), [m], () => undefined);
    expect(server.sent.slice(2)).toEqual([
      onShop(
        'SET XACT_ABORT ON;\nDECLARE @lock int;\n' +
          "EXEC @lock = sp_getapplock @Resource = N'cutover_migrations', @LockMode = N'Exclusive', @LockOwner = N'Session', @LockTimeout = -1;\n" +
          "IF @lock < 0 THROW 51000, N'Cutover could not lock the migration history', 1;",
      ),
      lookup('0001_fulltext.sql'),
      onShop('-- cutover:no-transaction\nCREATE FULLTEXT CATALOG notes_catalog;\n'),
      onShop('INSERT INTO t DEFAULT VALUES;\n'),
      onShop('INSERT INTO t DEFAULT VALUES;\n'),
      DEPTH,
      record(m),
    ]);
  });

  test('a statement SQL Server refuses inside a transaction gets the hint', async () => {
    const server = new FakeSqlServer({ shop: {} });
    server.fail(/ALTER DATABASE CURRENT/, sqlError(226, 'ALTER DATABASE statement not allowed within multi-statement transaction.', 1));
    const error = await failure(() =>
      engineOn(server).applyMigrations(
        handle(),
        [{ name: '0001_x.sql', sql: 'ALTER DATABASE CURRENT SET RECOVERY SIMPLE;' }],
        () => undefined,
      ),
    );
    expect(error.message).toMatch(
      /\(error 226\) at line 1 \(SQL Server runs this statement only outside a transaction: put "-- cutover:no-transaction" on the first line/,
    );
  });

  test('bad names and a bad GO line are refused before anything is sent', async () => {
    for (const bad of [
      [{ name: '../0001_x.sql', sql: 'SELECT 1;' }],
      [{ name: '', sql: 'SELECT 1;' }],
      [widgets, { name: '0001_widgets.sql', sql: 'SELECT 1;' }],
      [{ name: '0001_x.sql', sql: 'SELECT 1;\nGO 0' }],
    ]) {
      const server = new FakeSqlServer({ shop: {} });
      const error = await failure(() => engineOn(server).applyMigrations(handle(), bad, () => undefined));
      expect(error).toBeInstanceOf(EngineError);
      expect(server.sent).toEqual([]);
    }
  });
});

describe('secrets', () => {
  test('no error of any operation carries the password, even when the driver puts the connection string in its message', async () => {
    const leaky = new FakeSqlServer({ shop: {} });
    leaky.fail(/.*/, Object.assign(new Error(`Login failed: ${handle().connectionString} (${PASSWORD})`), { code: 'ELOGIN' }), 100);
    const engine = engineOn(leaky);
    const db = handle();
    for (const work of [
      () => engine.ping(db),
      () => engine.inspect(db),
      () => engine.copyToTemporary(db, () => undefined),
      () => engine.makeTemporaryReadOnly(db),
      () => engine.createRestorePoint(db, () => undefined),
      () => engine.restoreFromRestorePoint(db, () => undefined),
      () => engine.dropRestorePoint(db),
      () => engine.dropTemporary(db),
      () => engine.applyMigrations(db, [widgetsMigration], () => undefined),
    ]) {
      const error = await failure(work);
      expect(error.message).toContain('***');
    }
  });
});

const widgetsMigration: Migration = { name: '0001_w.sql', sql: 'SELECT 1;' };
