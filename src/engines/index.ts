import type { DatabaseConfig } from '../config/schema.js';
import { EngineError, type DatabaseEngine, type DatabaseHandle } from './engine.js';
import { createPostgresEngine, isReadOnlyViolation as isPostgresReadOnlyViolation } from './postgres.js';
import { createSqlServerEngine, isReadOnlyViolation as isSqlServerReadOnlyViolation, type SqlServerEngineOptions } from './sqlserver.js';
import { settingsOf } from './sqlserver/connection-url.js';

export interface EngineOptions {
  postgres: { binDir: string };
  /** SQL Server: where BACKUP files go (the server's default backup directory when absent). */
  sqlserver?: Pick<SqlServerEngineOptions, 'backupDirectory' | 'pollIntervalMs'>;
}

/** True when a database refused a write because it is read-only: PostgreSQL SQLSTATE 25006 or SQL Server error 3906, however wrapped. */
export function isReadOnlyViolation(err: unknown): boolean {
  return isPostgresReadOnlyViolation(err) || isSqlServerReadOnlyViolation(err);
}

export function engineFor(config: DatabaseConfig, options: EngineOptions): DatabaseEngine {
  switch (config.engine) {
    case 'postgres':
      return createPostgresEngine({ binDir: options.postgres.binDir });
    case 'sqlserver':
      return createSqlServerEngine(options.sqlserver ?? {});
  }
}

/** Reads the database's secret connection string from the activity process's environment; errors name the variable, never its value. */
export function resolveDatabaseHandle(config: DatabaseConfig, env: NodeJS.ProcessEnv = process.env): DatabaseHandle {
  const variable = config.connectionEnv;
  const connectionString = env[variable];
  if (connectionString === undefined || connectionString.trim() === '') {
    throw new EngineError('invalid-input', `environment variable ${variable} (connection string of database ${config.name}) is not set`);
  }
  let url: URL;
  try {
    url = new URL(connectionString);
  } catch {
    throw new EngineError('invalid-input', `environment variable ${variable} (connection string of database ${config.name}) is not a valid URL`);
  }
  if (config.engine === 'postgres' && url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new EngineError('invalid-input', `environment variable ${variable} (connection string of database ${config.name}) must be a postgres:// or postgresql:// URL`);
  }
  if (config.engine === 'sqlserver') {
    if (url.protocol !== 'sqlserver:') {
      throw new EngineError('invalid-input', `environment variable ${variable} (connection string of database ${config.name}) must be a sqlserver:// URL`);
    }
    // Options, user and host are checked now, once, rather than at the first operation.
    settingsOf({ config, connectionString });
  }
  return { config, connectionString };
}
