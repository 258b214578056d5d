import type { DatabaseConfig } from '../config/schema.js';

/** One database of an environment, with its secret connection string resolved in the activity process. */
export interface DatabaseHandle {
  config: DatabaseConfig;
  /** Connection string of the ORIGINAL database, read from config.connectionEnv. Never logged, never in workflow history. */
  connectionString: string;
  /** The other logins' connection strings, as far as this process has them (see logins.ts). Same rules as connectionString. */
  logins?: Partial<Record<'migration' | 'app', string>>;
}

/** Which physical database of a logical one a slot or an operation means. */
export type DatabaseRole = 'original' | 'temporary';

export interface Migration {
  /** File name inside the package's migrations folder, e.g. "0002_add_tagline.sql"; sorts into apply order. */
  name: string;
  sql: string;
}

export interface MigrationOptions {
  /** Lets a package lack migrations the database already applied (an older package rolled forward on purpose). */
  allowMissing?: boolean;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
  /** Applied to the database but absent from the package, and allowed to be (set only when there are some). */
  missing?: string[];
}

/** What exists in the real world for one logical database: the truth that resume is based on. */
export interface DatabaseInspection {
  original: { exists: boolean };
  temporary: { exists: boolean; readOnly: boolean };
  restorePoint: { exists: boolean };
  appliedMigrations: string[];
}

export interface HeartbeatFn {
  (details?: unknown): void;
}

/**
 * The database engine contract, shared by PostgreSQL and SQL Server. Every operation is idempotent:
 * calling it again after a crash or a retry does no harm and ends in the same state.
 * Errors that are not worth retrying are thrown as EngineError with a failure class.
 */
export interface DatabaseEngine {
  readonly name: DatabaseConfig['engine'];
  /** Connection string a slot uses for the given physical database: the application login's (secret: hand it only to the slot process). */
  connectionStringFor(db: DatabaseHandle, role: DatabaseRole): string;
  ping(db: DatabaseHandle): Promise<void>;
  inspect(db: DatabaseHandle): Promise<DatabaseInspection>;
  /** Consistent copy of the live database to its temporary database, without blocking the live site. No-op when a complete copy exists. */
  copyToTemporary(db: DatabaseHandle, heartbeat: HeartbeatFn): Promise<void>;
  /** Makes the temporary copy refuse every write, whatever the session's settings. */
  makeTemporaryReadOnly(db: DatabaseHandle): Promise<void>;
  /** Snapshot of the original before migrations. No-op when one exists. */
  createRestorePoint(db: DatabaseHandle, heartbeat: HeartbeatFn): Promise<void>;
  /** Puts the original back to the restore point (nothing may be connected to the original). */
  restoreFromRestorePoint(db: DatabaseHandle, heartbeat: HeartbeatFn): Promise<void>;
  dropRestorePoint(db: DatabaseHandle): Promise<void>;
  /**
   * Applies migrations in name order, once each, checksummed in a history table. Refused before anything is applied:
   * an applied migration that changed since, and one the database applied that `migrations` lacks (unless allowMissing).
   */
  applyMigrations(
    db: DatabaseHandle,
    migrations: Migration[],
    heartbeat: HeartbeatFn,
    options?: MigrationOptions,
  ): Promise<MigrationResult>;
  dropTemporary(db: DatabaseHandle): Promise<void>;
}

export type EngineErrorClass = 'migration-failed' | 'readonly-not-supported' | 'invalid-input' | 'transient';

export class EngineError extends Error {
  constructor(
    readonly failureClass: EngineErrorClass,
    message: string,
    readonly sqlState?: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** Every connection string of the handle (the admin login's and the others it has): each, and its password, is scrubbed from messages. */
export function connectionStringsOf(db: DatabaseHandle): string[] {
  return [db.connectionString, ...Object.values(db.logins ?? {})];
}
