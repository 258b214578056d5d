/**
 * The databases part of a slot's environment. Connection strings are resolved here, in the agent, from the
 * application login's variables named in config (appConnectionEnv): secrets never pass through Temporal.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { EnvironmentConfig } from '../../config/schema.js';
import { EngineError, type DatabaseRole } from '../../engines/engine.js';
import { engineFor } from '../../engines/index.js';
import { resolveLogin } from '../../engines/logins.js';
import { secretsOf } from './scrub.js';

export interface SlotDatabases {
  /** DATABASE_URL (first database) and CUTOVER_DB_<NAME>_URL for each database. */
  env: Record<string, string>;
  /** Every password in them, to scrub from anything that leaves the host. */
  secrets: string[];
}

export function slotDatabases(
  environment: EnvironmentConfig,
  role: DatabaseRole,
  options: { env: NodeJS.ProcessEnv; postgresBinDir: string },
): SlotDatabases {
  const env: Record<string, string> = {};
  const urls: string[] = [];
  environment.databases.forEach((config, index) => {
    const url = nonRetryable(() => {
      // The application login only: the agent never holds Cutover's own login when the environment has one for its apps.
      const handle = resolveLogin(config, 'app', options.env);
      urls.push(handle.connectionString);
      return engineFor(config, { postgres: { binDir: options.postgresBinDir } }).connectionStringFor(handle, role);
    });
    urls.push(url);
    env[`CUTOVER_DB_${config.name.toUpperCase()}_URL`] = url;
    if (index === 0) env.DATABASE_URL = url;
  });
  return { env, secrets: secretsOf(urls) };
}

/** Passwords of an environment's database logins, as far as this process has them: for scrubbing only. */
export function knownSecrets(environment: EnvironmentConfig | undefined, processEnv: NodeJS.ProcessEnv): string[] {
  const urls = (environment?.databases ?? []).flatMap((db) =>
    [db.connectionEnv, db.migrationConnectionEnv, db.appConnectionEnv].flatMap((variable) => {
      const value = variable ? processEnv[variable] : undefined;
      return value ? [value] : [];
    }),
  );
  return secretsOf(urls);
}

/** A missing variable or an unsupported engine will not fix itself on retry: fail clearly, once. */
function nonRetryable<T>(fn: () => T): T {
  try {
    return fn();
  } catch (error) {
    if (error instanceof EngineError) throw ApplicationFailure.nonRetryable(`${error.message} for the host agent`, error.failureClass);
    if (error instanceof Error) throw ApplicationFailure.nonRetryable(error.message, 'invalid-input');
    throw error;
  }
}
