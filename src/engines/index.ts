import type { DatabaseConfig } from '../config/schema.js';
import { EngineError, type DatabaseEngine, type DatabaseHandle } from './engine.js';
import { createPostgresEngine } from './postgres.js';

export { isReadOnlyViolation } from './postgres.js';

export interface EngineOptions {
  postgres: { binDir: string };
}

export function engineFor(config: DatabaseConfig, options: EngineOptions): DatabaseEngine {
  switch (config.engine) {
    case 'postgres':
      return createPostgresEngine({ binDir: options.postgres.binDir });
    case 'sqlserver':
      throw new Error('SQL Server engine not implemented yet');
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
  return { config, connectionString };
}
