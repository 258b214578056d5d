import type { DatabaseConfig } from '../config/schema.js';
import type { CaptureOptions, CaptureResult, ReplayOptions, ReplayResult } from './write-capture.js';

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

/**
 * Expand migrations run while the old version still runs, which must keep working on them; contract migrations run
 * once no old version runs (docs/data-safety.md). A migration without a phase changes what the old version relies on:
 * it needs a clone.
 */
export type MigrationPhase = 'expand' | 'contract';

export interface Migration {
  /** File name inside the package's migrations folder, e.g. "0002_add_tagline.sql"; sorts into apply order. */
  name: string;
  sql: string;
  /** Set for migrations of the package's expand/ and contract/ folders; absent for a plain migration. */
  phase?: MigrationPhase;
  /** Expand migrations only: the SQL that reverts it (expand/<name>.undo.sql), when the package has one. */
  undo?: string;
}

export interface MigrationOptions {
  /** Lets a package lack migrations the database already applied (an older package rolled forward on purpose). */
  allowMissing?: boolean;
  /** Applies only the pending migrations of this phase; the others are checked against the history, not applied. */
  phase?: MigrationPhase;
}

export interface UndoResult {
  /** Reverted and removed from the history, newest first. */
  undone: string[];
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
  /** following: the copy receives the original's writes (absent in inspections recorded before copies could follow). */
  temporary: { exists: boolean; readOnly: boolean; following?: boolean };
  restorePoint: { exists: boolean };
  appliedMigrations: string[];
}

/** What copyToTemporary made: a copy that follows the original's writes, or a snapshot, and why. */
export interface CopyResult {
  /** True while the copy receives every write committed on the original, until stopFollowing. */
  following: boolean;
  /** Why the copy is a snapshot only (set when not following), in words for the deployment log. */
  snapshotReason?: string;
  /** Tables whose later changes the copy does not receive, each with the reason (no primary key, unlogged). */
  notFollowed?: string[];
}

export interface StopFollowingOptions {
  /** How long to wait for the copy to receive what the original committed before the stop (30 s by default). */
  timeoutMs?: number;
}

/** What stopFollowing did: every write committed on the original before it began is on the copy when caughtUp. */
export interface StopFollowingResult {
  /** The copy was following (false: a snapshot, or an earlier attempt already stopped it). */
  wasFollowing: boolean;
  /** The copy received everything the original had committed when the stop began. */
  caughtUp: boolean;
  /** How long the stop waited for the copy to catch up. */
  waitedMs: number;
  /** Bytes of the original's log the copy had not received when it stopped (0 when caught up). */
  lagBytes: number;
  /** Sequences of the copy moved up to the original's values, so that new keys on the copy never reuse one. */
  sequencesSynced: number;
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
  /**
   * Consistent copy of the live database to its temporary database, without blocking the live site. Where the engine
   * and server can, the copy then follows the original (receives its writes) until stopFollowing; where they cannot,
   * it is a snapshot, and the result says why. A retry finds a complete copy and resumes following it.
   */
  copyToTemporary(db: DatabaseHandle, heartbeat: HeartbeatFn): Promise<CopyResult>;
  /**
   * Waits (up to timeoutMs) until the copy has what the original committed so far, then ends the following for good
   * and moves the copy's sequences up to the original's. Idempotent; on a snapshot copy it only syncs the sequences.
   */
  stopFollowing(db: DatabaseHandle, heartbeat: HeartbeatFn, options?: StopFollowingOptions): Promise<StopFollowingResult>;
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
  /** Drops the temporary copy and everything that made it follow the original (nothing is left holding the original's log). */
  dropTemporary(db: DatabaseHandle): Promise<void>;
  /**
   * Reverts applied expand migrations with their undo scripts, newest first, each in one transaction with the removal
   * of its history row; one not in the history is skipped. Absent where the engine cannot (SQL Server, for now).
   */
  undoMigrations?(db: DatabaseHandle, migrations: Migration[], heartbeat: HeartbeatFn): Promise<UndoResult>;
  /**
   * readwrite-replay (docs/data-safety.md): records every row change the application makes on the temporary copy from
   * now on, and moves the copy's sequences a gap past the original's. Refused when a table has no primary key.
   * Idempotent. Absent where the engine cannot (SQL Server, for now).
   */
  startCapture?(db: DatabaseHandle, options?: CaptureOptions): Promise<CaptureResult>;
  /**
   * Applies onto the original, exactly once and in order, the captured changes it has not applied yet; a change that
   * no longer fits is kept as a conflict and replay goes on. A final replay (the copy takes no more writes) then moves
   * the original's sequences up to the copy's.
   */
  replayChanges?(db: DatabaseHandle, heartbeat: HeartbeatFn, options?: ReplayOptions): Promise<ReplayResult>;
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
