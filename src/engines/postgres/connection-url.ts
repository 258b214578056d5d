import { EngineError, type DatabaseHandle } from '../engine.js';
import { conninfo } from './sql.js';

/** Parses the handle's URL; the message names the environment variable, never the secret value. */
export function parseConnectionUrl(db: DatabaseHandle): URL {
  let url: URL;
  try {
    url = new URL(db.connectionString);
  } catch {
    throw new EngineError(
      'invalid-input',
      `the connection string in ${db.config.connectionEnv} (database ${db.config.name}) is not a valid URL`,
    );
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new EngineError(
      'invalid-input',
      `the connection string in ${db.config.connectionEnv} (database ${db.config.name}) must start with postgres:// or postgresql://`,
    );
  }
  return url;
}

/** The database named by the URL's path: the original of the logical database. */
export function databaseNameOf(db: DatabaseHandle): string {
  const path = parseConnectionUrl(db).pathname.replace(/^\//, '');
  try {
    return decodeURIComponent(path);
  } catch {
    throw new EngineError(
      'invalid-input',
      `the database name in ${db.config.connectionEnv} (database ${db.config.name}) is not valid percent-encoding`,
    );
  }
}

/** Same server, credentials and options, another database. */
export function connectionStringTo(db: DatabaseHandle, database: string): string {
  const url = parseConnectionUrl(db);
  url.pathname = '/' + encodeURIComponent(database);
  return url.toString();
}

/** URL query parameters that mean the same to libpq, passed on to pg_dump / pg_restore as environment variables. */
const LIBPQ_ENV_FOR_PARAM: Record<string, string> = {
  host: 'PGHOST',
  port: 'PGPORT',
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
  application_name: 'PGAPPNAME',
  options: 'PGOPTIONS',
  connect_timeout: 'PGCONNECT_TIMEOUT',
  target_session_attrs: 'PGTARGETSESSIONATTRS',
};

/**
 * Environment for libpq tools: the password travels in PGPASSWORD, never on a command line that `ps` shows.
 * Inherited PG* variables are removed so that nothing but the handle decides where the tools connect.
 */
export function libpqEnvironment(db: DatabaseHandle, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const url = parseConnectionUrl(db);
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(base)) if (!key.startsWith('PG')) env[key] = value;
  const hostname = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (hostname) env.PGHOST = decodeURIComponent(hostname);
  if (url.port) env.PGPORT = url.port;
  if (url.username) env.PGUSER = decodeURIComponent(url.username);
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  for (const [param, value] of url.searchParams) {
    const variable = LIBPQ_ENV_FOR_PARAM[param];
    if (variable) env[variable] = value;
  }
  // node-postgres spells "use TLS" as ssl=true; libpq needs a mode.
  if (!env.PGSSLMODE && ['true', '1'].includes(url.searchParams.get('ssl') ?? '')) env.PGSSLMODE = 'require';
  return env;
}

/** libpq keywords of the environment variables above that say where and how to connect (not who is asking: no application_name). */
const CONNINFO_KEYWORD_FOR_ENV: Record<string, string> = {
  PGHOST: 'host',
  PGPORT: 'port',
  PGUSER: 'user',
  PGPASSWORD: 'password',
  PGSSLMODE: 'sslmode',
  PGSSLROOTCERT: 'sslrootcert',
  PGSSLCERT: 'sslcert',
  PGSSLKEY: 'sslkey',
  PGCONNECT_TIMEOUT: 'connect_timeout',
  PGTARGETSESSIONATTRS: 'target_session_attrs',
};

/** The handle's server, credentials and options as a libpq conninfo for one database: how the server itself connects (a subscription). */
export function conninfoTo(db: DatabaseHandle, database: string): string {
  const settings: Record<string, string> = {};
  for (const [variable, value] of Object.entries(libpqEnvironment(db, {}))) {
    const keyword = CONNINFO_KEYWORD_FOR_ENV[variable];
    if (keyword && value !== undefined) settings[keyword] = value;
  }
  return conninfo({ ...settings, dbname: database });
}
