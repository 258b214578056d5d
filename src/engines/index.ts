import type { DatabaseConfig } from '../config/schema.js';
import type { DatabaseEngine, DatabaseHandle } from './engine.js';
import { createPostgresEngine } from './postgres.js';
import { createSqlServerEngine, type SqlServerEngineOptions } from './sqlserver.js';
import { resolveLogins } from './logins.js';

export interface EngineOptions {
  postgres: { binDir: string };
  /** SQL Server: where BACKUP files go (the server's default backup directory when absent). */
  sqlserver?: Pick<SqlServerEngineOptions, 'backupDirectory' | 'pollIntervalMs'>;
}

export function engineFor(config: DatabaseConfig, options: EngineOptions): DatabaseEngine {
  switch (config.engine) {
    case 'postgres':
      return createPostgresEngine({ binDir: options.postgres.binDir });
    case 'sqlserver':
      return createSqlServerEngine(options.sqlserver ?? {});
  }
}

/**
 * Reads the database's secret connection strings from the activity process's environment: the admin login's (required)
 * and those of the migration and application logins that are set; errors name the variable, never its value.
 */
export function resolveDatabaseHandle(config: DatabaseConfig, env: NodeJS.ProcessEnv = process.env): DatabaseHandle {
  return resolveLogins(config, env);
}
