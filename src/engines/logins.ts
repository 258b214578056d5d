/**
 * Cutover's three database logins, each read from its own environment variable, none with more rights than its job:
 * the admin login (connectionEnv: copies, restore points, restores, drops), the migration login
 * (migrationConnectionEnv: DDL on the environment's database only) and the application login (appConnectionEnv: DML
 * only; what slots get). A login without a variable of its own is the admin login (today's behaviour, with a warning).
 */
import type { DatabaseConfig } from '../config/schema.js';
import { EngineError, type DatabaseHandle } from './engine.js';
import { settingsOf } from './sqlserver/connection-url.js';

export type DatabaseLogin = 'admin' | 'migration' | 'app';

const FIELD = { admin: 'connectionEnv', migration: 'migrationConnectionEnv', app: 'appConnectionEnv' } as const;
const WHAT: Record<DatabaseLogin, string> = { admin: 'connection string', migration: 'migration login', app: 'application login' };

/** Whether the configuration names a variable for this login (the admin login always has one). */
export function hasOwnLogin(config: DatabaseConfig, login: DatabaseLogin): boolean {
  return config[FIELD[login]] !== undefined;
}

/** The variable a login's connection string comes from: the admin login's when the login has none of its own. */
export function loginVariable(config: DatabaseConfig, login: DatabaseLogin): string {
  return config[FIELD[login]] ?? config.connectionEnv;
}

function describe(config: DatabaseConfig, login: DatabaseLogin): string {
  const what = WHAT[hasOwnLogin(config, login) ? login : 'admin'];
  return `environment variable ${loginVariable(config, login)} (${what} of database ${config.name})`;
}

/** The config as seen through one login: every message about that login's URL names its own variable. */
function configFor(config: DatabaseConfig, login: DatabaseLogin): DatabaseConfig {
  return { ...config, connectionEnv: loginVariable(config, login) };
}

/** Checks one login's connection string: errors name the variable, never its value. */
function checkedConnectionString(config: DatabaseConfig, login: DatabaseLogin, connectionString: string | undefined): string {
  const what = describe(config, login);
  if (connectionString === undefined || connectionString.trim() === '') throw new EngineError('invalid-input', `${what} is not set`);
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new EngineError('invalid-input', `${what} is not a valid URL`);
  }
  if (config.engine === 'postgres' && url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new EngineError('invalid-input', `${what} must be a postgres:// or postgresql:// URL`);
  }
  if (config.engine === 'sqlserver') {
    if (url.protocol !== 'sqlserver:') throw new EngineError('invalid-input', `${what} must be a sqlserver:// URL`);
    // Options, user and host are checked now, once, rather than at the first operation.
    settingsOf({ config: configFor(config, login), connectionString });
  }
  return connectionString;
}

/** Server and database a URL names: every login of one database must agree on them. */
function placeOf(connectionString: string): string {
  const url = new URL(connectionString);
  return `${url.host.toLowerCase()}${url.pathname}`;
}

/**
 * The handle of the admin login, with the other logins this process has (a process gets only the variables it
 * needs: the host agent has none of these). A login whose variable is set but names another server or database is refused.
 */
export function resolveLogins(config: DatabaseConfig, env: NodeJS.ProcessEnv): DatabaseHandle {
  const connectionString = checkedConnectionString(config, 'admin', env[config.connectionEnv]);
  const logins: NonNullable<DatabaseHandle['logins']> = {};
  for (const login of ['migration', 'app'] as const) {
    if (!hasOwnLogin(config, login) || !env[loginVariable(config, login)]) continue;
    const other = checkedConnectionString(config, login, env[loginVariable(config, login)]);
    if (placeOf(other) !== placeOf(connectionString)) {
      const message = `${describe(config, login)} must name the same server and database as ${config.connectionEnv}`;
      throw new EngineError('invalid-input', message);
    }
    logins[login] = other;
  }
  return Object.keys(logins).length > 0 ? { config, connectionString, logins } : { config, connectionString };
}

/** The handle as one login only, read from that login's variable alone: what the host agent resolves for its slots. */
export function resolveLogin(config: DatabaseConfig, login: DatabaseLogin, env: NodeJS.ProcessEnv): DatabaseHandle {
  const connectionString = checkedConnectionString(config, login, env[loginVariable(config, login)]);
  if (login === 'admin' || !hasOwnLogin(config, login)) return { config, connectionString };
  return { config: configFor(config, login), connectionString, logins: { [login]: connectionString } };
}

/** The handle as that login: its connection string, and messages that name its variable. Idempotent. */
export function asLogin(db: DatabaseHandle, login: DatabaseLogin): DatabaseHandle {
  if (login === 'admin' || !hasOwnLogin(db.config, login)) return db;
  const connectionString = db.logins?.[login];
  if (connectionString === undefined) throw new EngineError('invalid-input', `${describe(db.config, login)} is not set`);
  return { config: configFor(db.config, login), connectionString, logins: { [login]: connectionString } };
}
