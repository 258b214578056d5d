/**
 * T-SQL of the logins of one environment's database (docs/sqlserver.md, "Logins"): the migration login changes the
 * schema of that database only (db_ddladmin, never db_owner, which could drop it), the application login reads and
 * writes it (db_datareader, db_datawriter), neither has a server role, and neither has a user in another database.
 * Users live in the database, so BACKUP/RESTORE and COPY OF carry them to the temporary copy and the restore point.
 * Pure builders, run by an administrator (sa, or securityadmin plus db_owner); texts that carry a password are never logged.
 */
import { quoteName, unicodeLiteral } from '../identifiers.js';
import type { SqlStatement } from '../session.js';
import { HISTORY_TABLE, ensureHistory } from './migrations.js';

export type SqlServerLogin = 'migration' | 'app';

/** The fixed database roles each login is a member of: nothing else. */
export const DATABASE_ROLES: Record<SqlServerLogin, readonly string[]> = {
  migration: ['db_ddladmin', 'db_datareader', 'db_datawriter'],
  app: ['db_datareader', 'db_datawriter'],
};

/** On master: the login, or a new password for it when it exists. CHECK_POLICY keeps the server's password rules. */
export function createLogin(login: string, password: string): SqlStatement {
  return {
    text:
      `IF SUSER_ID(${unicodeLiteral(login)}) IS NULL\n` +
      `  CREATE LOGIN ${quoteName(login)} WITH PASSWORD = ${unicodeLiteral(password)}, CHECK_POLICY = ON;\n` +
      `ELSE\n  ALTER LOGIN ${quoteName(login)} WITH PASSWORD = ${unicodeLiteral(password)};`,
  };
}

/** On the environment's database: the login's user there (and only there), with the roles of its job. */
export function createUser(login: string, role: SqlServerLogin): SqlStatement {
  const user = quoteName(login);
  const name = unicodeLiteral(login);
  return {
    text: [
      `IF DATABASE_PRINCIPAL_ID(${name}) IS NULL CREATE USER ${user} FOR LOGIN ${user};`,
      ...DATABASE_ROLES[role].map(
        (r) => `IF ISNULL(IS_ROLEMEMBER(${unicodeLiteral(r)}, ${name}), 0) = 0 ALTER ROLE ${quoteName(r)} ADD MEMBER ${user};`,
      ),
    ].join('\n'),
  };
}

/** On the environment's database: the application may read the migration history, never change it (it decides what runs next). */
export function protectMigrationHistory(appLogin: string): SqlStatement {
  return { text: `DENY INSERT, UPDATE, DELETE ON OBJECT::${HISTORY_TABLE} TO ${quoteName(appLogin)};` };
}

/** On master: which server roles a login has and whether it may create databases; the setup checks both logins have none. */
export function serverRightsQuery(login: string): SqlStatement {
  return {
    text:
      'SELECT r.name AS role FROM sys.server_role_members m ' +
      'JOIN sys.server_principals r ON r.principal_id = m.role_principal_id ' +
      'JOIN sys.server_principals p ON p.principal_id = m.member_principal_id WHERE p.name = @login ' +
      "UNION ALL SELECT N'CREATE ANY DATABASE' FROM sys.server_permissions s " +
      'JOIN sys.server_principals p ON p.principal_id = s.grantee_principal_id ' +
      "WHERE p.name = @login AND s.permission_name IN (N'CREATE ANY DATABASE', N'ALTER ANY DATABASE') AND s.state IN ('G', 'W');",
    params: { login },
  };
}

export interface LoginSetup {
  database: string;
  migration: { login: string; password: string };
  app: { login: string; password: string };
}

/** The whole setup, in order, each statement with the database it runs on (the history table is made first, so it can be protected). */
export function loginSetup(setup: LoginSetup): Array<{ database: string; statement: SqlStatement }> {
  return [
    { database: 'master', statement: createLogin(setup.migration.login, setup.migration.password) },
    { database: 'master', statement: createLogin(setup.app.login, setup.app.password) },
    { database: setup.database, statement: createUser(setup.migration.login, 'migration') },
    { database: setup.database, statement: createUser(setup.app.login, 'app') },
    { database: setup.database, statement: ensureHistory },
    { database: setup.database, statement: protectMigrationHistory(setup.app.login) },
  ];
}
