/**
 * The databases part of a slot's environment. Connection strings are resolved here, in the agent,
 * from the variables named in config: secrets never pass through Temporal.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EnvironmentConfig } from '../../config/schema.js';
import { EngineError, type DatabaseHandle, type DatabaseRole } from '../../engines/engine.js';
import { connectionStringTo } from '../../engines/postgres/connection-url.js';
import { physicalNames } from '../../engines/postgres/names.js';
import { databaseNameOf } from '../../engines/postgres/connection-url.js';
import { secretsOf } from './scrub.js';

export interface SlotDatabases {
  /** DATABASE_URL (first database) and CUTOVER_DB_<NAME>_URL for each database. */
  env: Record<string, string>;
  /** Every password in them, to scrub from anything that leaves the host. */
  secrets: string[];
}

export function slotDatabases(environment: EnvironmentConfig, role: DatabaseRole, processEnv: NodeJS.ProcessEnv): SlotDatabases {
  const env: Record<string, string> = {};
  const urls: string[] = [];
  environment.databases.forEach((config, index) => {
    const handle = resolveHandle(config, processEnv);
    const url = asFailure(() => connectionStringFor(handle, role));
    urls.push(handle.connectionString, url);
    env[`CUTOVER_DB_${config.name.toUpperCase()}_URL`] = url;
    if (index === 0) env.DATABASE_URL = url;
  });
  return { env, secrets: secretsOf(urls) };
}

/** Passwords of an environment's databases, as far as they can be resolved: for scrubbing only. */
export function knownSecrets(environment: EnvironmentConfig | undefined, processEnv: NodeJS.ProcessEnv): string[] {
  const urls = (environment?.databases ?? []).flatMap((db) => {
    const value = processEnv[db.connectionEnv];
    return value ? [value] : [];
  });
  return secretsOf(urls);
}

function resolveHandle(config: DatabaseHandle['config'], processEnv: NodeJS.ProcessEnv): DatabaseHandle {
  const connectionString = processEnv[config.connectionEnv];
  if (!connectionString) {
    throw ApplicationFailure.nonRetryable(
      `The environment variable ${config.connectionEnv} (connection string of database ${config.name}) is not set for the host agent`,
      'invalid-input',
    );
  }
  return { config, connectionString };
}

function connectionStringFor(db: DatabaseHandle, role: DatabaseRole): string {
  if (role === 'original') return db.connectionString;
  if (db.config.engine !== 'postgres') throw new EngineError('invalid-input', `temporary databases of ${db.config.engine} are not supported by this host agent yet`);
  return connectionStringTo(db, physicalNames(databaseNameOf(db)).temporary);
}

function asFailure<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof EngineError) throw ApplicationFailure.nonRetryable(error.message, error.failureClass);
    throw error;
  }
}
