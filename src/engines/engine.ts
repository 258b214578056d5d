import type { DatabaseConfig } from '../config/schema.js';

/** One database of an environment, with its secret connection string resolved in the activity process. */
export interface DatabaseHandle {
  config: DatabaseConfig;
  /** Connection string of the ORIGINAL database, read from config.connectionEnv. Never logged, never in workflow history. */
  connectionString: string;
}

/** Which physical database of a logical one a slot or an operation means. */
export type DatabaseRole = 'original' | 'temporary';

export interface Migration {
  /** File name inside the package's migrations folder, e.g. "0002_add_tagline.sql"; sorts into apply order. */
  name: string;
  sql: string;
}

export interface MigrationResult {
  applied: string[];
  alreadyApplied: string[];
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
  /** Connection string a slot uses for the given physical database (secret: hand it only to the slot process). */
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
  /** Applies migrations in name order, once each, checksummed in a history table; a changed applied migration is an error. */
  applyMigrations(db: DatabaseHandle, migrations: Migration[], heartbeat: HeartbeatFn): Promise<MigrationResult>;
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
