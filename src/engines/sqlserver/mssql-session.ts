import mssql from 'mssql';
import type { DatabaseHandle } from '../engine.js';
import { settingsOf } from './connection-url.js';
import type { ConnectOptions, Row, SqlSession, SqlStatement } from './session.js';

/** mssql's configuration for one database of the handle's server: a pool of exactly one connection, i.e. one session. */
export function mssqlConfigFor(db: DatabaseHandle, database: string, options: ConnectOptions = {}): mssql.config {
  const settings = settingsOf(db);
  return {
    server: settings.server,
    port: settings.instanceName ? undefined : settings.port,
    user: settings.user,
    password: settings.password,
    database,
    connectionTimeout: options.timeoutMs ?? settings.connectTimeoutMs ?? 15_000,
    // 0: no limit; BACKUP, RESTORE and migrations take what they take, and heartbeats keep the activity alive.
    requestTimeout: options.requestTimeoutMs ?? 0,
    pool: { min: 0, max: 1, idleTimeoutMillis: 60_000 },
    options: {
      encrypt: settings.encrypt,
      trustServerCertificate: settings.trustServerCertificate,
      instanceName: settings.instanceName,
      appName: settings.applicationName,
    },
  };
}

/** The thin executor: sends statements exactly as statements/ built them, on one connection. */
export async function connectMssql(db: DatabaseHandle, database: string, options: ConnectOptions = {}): Promise<SqlSession> {
  const pool = new mssql.ConnectionPool(mssqlConfigFor(db, database, options));
  // A broken idle connection is reported by the next statement; without a listener it would crash the worker.
  pool.on('error', () => undefined);
  try {
    await pool.connect();
  } catch (error) {
    await pool.close().catch(() => undefined);
    throw error;
  }
  return {
    async run<T extends object = Row>(statement: SqlStatement): Promise<T[]> {
      const request = pool.request();
      const params = Object.entries(statement.params ?? {});
      for (const [name, value] of params) request.input(name, mssql.NVarChar(mssql.MAX), value);
      const result = params.length > 0 ? await request.query<T>(statement.text) : await request.batch<T>(statement.text);
      const sets = (result.recordsets ?? []) as unknown as T[][];
      return sets.length > 0 ? [...(sets[sets.length - 1] ?? [])] : [];
    },
    close: () => pool.close(),
  };
}
