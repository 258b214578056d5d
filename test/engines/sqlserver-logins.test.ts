/** The T-SQL of the SQL Server logins (docs/sqlserver.md, "Logins"): pinned, since no SQL Server runs here. */
import { describe, expect, test } from 'vitest';
import type { DatabaseHandle } from '../../src/engines/engine.js';
import { createSqlServerEngine } from '../../src/engines/sqlserver.js';
import type { Connector } from '../../src/engines/sqlserver/session.js';
import { FakeSqlServer } from './support/fake-sqlserver.js';
import {
  DATABASE_ROLES,
  createLogin,
  createUser,
  loginSetup,
  protectMigrationHistory,
  serverRightsQuery,
} from '../../src/engines/sqlserver/statements/logins.js';
import { ensureHistory } from '../../src/engines/sqlserver/statements/migrations.js';

const HOSTILE = "shop]; DROP LOGIN sa; --'";

describe('T-SQL of the migration and application logins', () => {
  test('a login is created once, and given a new password when it exists; names quoted, the password a literal', () => {
    expect(createLogin('shop_app', "pa'ss")).toEqual({
      text:
        "IF SUSER_ID(N'shop_app') IS NULL\n" +
        "  CREATE LOGIN [shop_app] WITH PASSWORD = N'pa''ss', CHECK_POLICY = ON;\n" +
        "ELSE\n  ALTER LOGIN [shop_app] WITH PASSWORD = N'pa''ss';",
    });
    expect(createLogin(HOSTILE, 'x').text).toContain("CREATE LOGIN [shop]]; DROP LOGIN sa; --'] WITH");
    expect(createLogin(HOSTILE, 'x').text).toContain("SUSER_ID(N'shop]; DROP LOGIN sa; --''')");
  });

  test('the migration login changes the schema, the application login reads and writes; neither owns the database', () => {
    expect(DATABASE_ROLES.migration).toEqual(['db_ddladmin', 'db_datareader', 'db_datawriter']);
    expect(DATABASE_ROLES.app).toEqual(['db_datareader', 'db_datawriter']);
    for (const roles of Object.values(DATABASE_ROLES)) expect(roles).not.toContain('db_owner');
    expect(createUser('shop_app', 'app')).toEqual({
      text:
        "IF DATABASE_PRINCIPAL_ID(N'shop_app') IS NULL CREATE USER [shop_app] FOR LOGIN [shop_app];\n" +
        "IF ISNULL(IS_ROLEMEMBER(N'db_datareader', N'shop_app'), 0) = 0 ALTER ROLE [db_datareader] ADD MEMBER [shop_app];\n" +
        "IF ISNULL(IS_ROLEMEMBER(N'db_datawriter', N'shop_app'), 0) = 0 ALTER ROLE [db_datawriter] ADD MEMBER [shop_app];",
    });
    expect(createUser('shop_migrator', 'migration').text).toContain('ALTER ROLE [db_ddladmin] ADD MEMBER [shop_migrator];');
    expect(createUser(HOSTILE, 'app').text).toContain("CREATE USER [shop]]; DROP LOGIN sa; --'] FOR LOGIN [shop]]; DROP LOGIN sa; --']");
  });

  test('the application may not change the migration history', () => {
    expect(protectMigrationHistory('shop_app')).toEqual({
      text: 'DENY INSERT, UPDATE, DELETE ON OBJECT::dbo.cutover_migrations TO [shop_app];',
    });
  });

  test('what a login may do on the server: its roles and database rights, the login a parameter', () => {
    const query = serverRightsQuery(HOSTILE);
    expect(query.params).toEqual({ login: HOSTILE });
    expect(query.text).not.toContain(HOSTILE);
    expect(query.text).toContain("s.permission_name IN (N'CREATE ANY DATABASE', N'ALTER ANY DATABASE')");
  });

  test('the whole setup, in order, each statement on its database', () => {
    const steps = loginSetup({
      database: 'shop',
      migration: { login: 'shop_migrator', password: 'm' },
      app: { login: 'shop_app', password: 'a' },
    });
    expect(steps.map((s) => [s.database, s.statement.text.split('\n')[0]])).toEqual([
      ['master', "IF SUSER_ID(N'shop_migrator') IS NULL"],
      ['master', "IF SUSER_ID(N'shop_app') IS NULL"],
      ['shop', "IF DATABASE_PRINCIPAL_ID(N'shop_migrator') IS NULL CREATE USER [shop_migrator] FOR LOGIN [shop_migrator];"],
      ['shop', "IF DATABASE_PRINCIPAL_ID(N'shop_app') IS NULL CREATE USER [shop_app] FOR LOGIN [shop_app];"],
      ['shop', ensureHistory.text.split('\n')[0]],
      ['shop', 'DENY INSERT, UPDATE, DELETE ON OBJECT::dbo.cutover_migrations TO [shop_app];'],
    ]);
  });
});

describe('the engine uses each login for its job', () => {
  const url = (user: string, database = 'shop') =>
    `sqlserver://${user}:pw-${user}@db.internal:1433/${database}?encrypt=true&trustServerCertificate=true`;
  const handle: DatabaseHandle = {
    config: {
      name: 'shop',
      engine: 'sqlserver',
      connectionEnv: 'SHOP_URL',
      migrationConnectionEnv: 'SHOP_MIGRATION_URL',
      appConnectionEnv: 'SHOP_APP_URL',
    },
    connectionString: url('cutover'),
    logins: { migration: url('shop_migrator'), app: url('shop_app') },
  };

  test("migrations run as the migration login, copies as Cutover's own, and slots get the application login", async () => {
    const server = new FakeSqlServer({ shop: {} });
    const logins: string[] = [];
    const connect: Connector = (db, database, options) => {
      logins.push(`${new URL(db.connectionString).username}@${database}`);
      return server.connect(db, database, options);
    };
    const engine = createSqlServerEngine({ connect, nonce: () => 'n0nce', pollIntervalMs: 0 });
    await engine.applyMigrations(handle, [{ name: '0001_widgets.sql', sql: 'CREATE TABLE widgets (id int);' }], () => undefined);
    expect(new Set(logins)).toEqual(new Set(['shop_migrator@shop']));
    logins.length = 0;
    await engine.copyToTemporary(handle, () => undefined);
    expect(logins.length).toBeGreaterThan(0);
    expect(logins.every((l) => l.startsWith('cutover@'))).toBe(true);
    expect(engine.connectionStringFor(handle, 'temporary')).toBe(url('shop_app', 'shop__cutover_tmp'));
  });
});
