import { EngineError, type DatabaseHandle } from '../engine.js';

/**
 * How Cutover reads a SQL Server connection string (documented in docs/sqlserver.md):
 * sqlserver://user:password@host[:port]/database[?encrypt=true&trustServerCertificate=false&instanceName=…&applicationName=…&connectTimeout=15000]
 */
export interface SqlServerSettings {
  server: string;
  /** Absent with instanceName (the SQL Browser finds the port) or for the default 1433. */
  port?: number;
  instanceName?: string;
  user: string;
  password: string;
  /** The database the URL names: the original of the logical database. */
  database: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
  applicationName: string;
  connectTimeoutMs?: number;
}

const PROTOCOL = 'sqlserver:';
const OPTIONS = ['encrypt', 'trustServerCertificate', 'instanceName', 'applicationName', 'connectTimeout'] as const;

function where(db: DatabaseHandle): string {
  return `the connection string in ${db.config.connectionEnv} (database ${db.config.name})`;
}

function decode(text: string, db: DatabaseHandle, part: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new EngineError('invalid-input', `the ${part} in ${where(db)} is not valid percent-encoding`);
  }
}

function flag(url: URL, name: string, fallback: boolean, db: DatabaseHandle): boolean {
  const value = url.searchParams.get(name);
  if (value === null) return fallback;
  if (['true', '1', 'yes'].includes(value.toLowerCase())) return true;
  if (['false', '0', 'no'].includes(value.toLowerCase())) return false;
  throw new EngineError('invalid-input', `${where(db)}: option ${name} must be true or false`);
}

/** Parses the handle's URL; messages name the environment variable and the option, never a value that could be secret. */
export function parseConnectionUrl(db: DatabaseHandle): URL {
  let url: URL;
  try {
    url = new URL(db.connectionString);
  } catch {
    throw new EngineError('invalid-input', `${where(db)} is not a valid URL`);
  }
  if (url.protocol !== PROTOCOL) throw new EngineError('invalid-input', `${where(db)} must start with sqlserver://`);
  const unknown = [...url.searchParams.keys()].filter((key) => !(OPTIONS as readonly string[]).includes(key));
  if (unknown.length > 0) {
    throw new EngineError(
      'invalid-input',
      `${where(db)} has unknown option(s) ${[...new Set(unknown)].map((k) => JSON.stringify(k)).join(', ')}; expected ${OPTIONS.join(', ')}`,
    );
  }
  return url;
}

export function settingsOf(db: DatabaseHandle): SqlServerSettings {
  const url = parseConnectionUrl(db);
  const server = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (server === '') throw new EngineError('invalid-input', `${where(db)} names no host`);
  if (url.username === '')
    throw new EngineError('invalid-input', `${where(db)} names no user (SQL Server authentication needs user and password)`);
  const connectTimeout = url.searchParams.get('connectTimeout');
  if (connectTimeout !== null && !/^[1-9][0-9]{0,6}$/.test(connectTimeout)) {
    throw new EngineError('invalid-input', `${where(db)}: option connectTimeout must be a number of milliseconds`);
  }
  const instanceName = url.searchParams.get('instanceName') ?? undefined;
  return {
    server: decode(server, db, 'host'),
    port: url.port ? Number(url.port) : undefined,
    instanceName: instanceName === '' ? undefined : instanceName,
    user: decode(url.username, db, 'user name'),
    password: decode(url.password, db, 'password'),
    database: decode(url.pathname.replace(/^\//, ''), db, 'database name'),
    encrypt: flag(url, 'encrypt', true, db),
    trustServerCertificate: flag(url, 'trustServerCertificate', false, db),
    applicationName: url.searchParams.get('applicationName') || 'cutover',
    connectTimeoutMs: connectTimeout === null ? undefined : Number(connectTimeout),
  };
}

/** The database named by the URL's path: the original of the logical database. */
export function databaseNameOf(db: DatabaseHandle): string {
  return settingsOf(db).database;
}

/** Same server, credentials and options, another database: what a slot gets as DATABASE_URL. */
export function connectionStringTo(db: DatabaseHandle, database: string): string {
  const url = parseConnectionUrl(db);
  url.pathname = '/' + encodeURIComponent(database);
  return url.toString();
}
