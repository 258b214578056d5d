import { EngineError, type HeartbeatFn, type Migration, type MigrationOptions, type MigrationResult } from '../engine.js';
import { changedAfterApplied, checkAgainstHistory } from '../migration-history.js';
import { byName, checkMigrationNames, checksumOf, dueMigrations } from '../migration-set.js';
import { withHeartbeat } from '../heartbeat.js';
import { BatchSyntaxError, splitBatches, type Batch } from './batches.js';
import { describeError, errorNumberOf, isTransient } from './errors.js';
import type { Operation } from './operation.js';
import { withSession, type SqlSession } from './session.js';
import {
  appliedMigrationsQuery,
  beginMigration,
  commitMigration,
  ensureHistory,
  ensureHistoryPhase,
  lockMigrationsForSession,
  recordedChecksumOf,
  recordedChecksums,
  recordMigration,
  rollbackIfOpen,
  transactionState,
} from './statements/migrations.js';

/** First line of a migration whose statements SQL Server refuses inside a transaction (ALTER DATABASE, full-text…). */
const NO_TRANSACTION = /^[ \t]*--[ \t]*cutover:[ \t]*no-transaction[ \t]*$/i;

/** "… statement not allowed within multi-statement transaction." */
const NOT_IN_TRANSACTION_ERRORS = new Set([226, 574]);

export interface PlannedMigration extends Migration {
  checksum: string;
  batches: Batch[];
  transactional: boolean;
}

/** Checks names and splits every script before anything is applied: bad input changes nothing. */
export function planMigrations(migrations: readonly Migration[]): PlannedMigration[] {
  checkMigrationNames(migrations);
  return [...migrations].sort(byName).map((m) => {
    let batches: Batch[];
    try {
      batches = splitBatches(m.sql);
    } catch (error) {
      if (error instanceof BatchSyntaxError) throw new EngineError('migration-failed', `migration ${m.name}: ${error.message}`);
      throw error;
    }
    const firstLine =
      m.sql
        .replace(/^\uFEFF/, '')
        .split('\n')
        .find((l) => l.trim() !== '') ?? '';
    return { ...m, checksum: checksumOf(m.sql), batches, transactional: !NO_TRANSACTION.test(firstLine.replace(/\r$/, '')) };
  });
}

/** "Invalid object name 'x'. (error 208) at line 3": the line counts from the top of the migration file, not of the batch. */
export function describeMigrationError(error: unknown, batch: Batch): string {
  const parts = [describeError(error)];
  const lineNumber = Number((error as { lineNumber?: unknown } | null)?.lineNumber);
  if (Number.isInteger(lineNumber) && lineNumber > 0) parts.push(`at line ${batch.startLine + lineNumber - 1}`);
  const number = errorNumberOf(error);
  if (number !== undefined && NOT_IN_TRANSACTION_ERRORS.has(number)) {
    parts.push(
      '(SQL Server runs this statement only outside a transaction: put "-- cutover:no-transaction" on the first line of the migration)',
    );
  }
  return parts.join(' ');
}

async function runBatches(session: SqlSession, m: PlannedMigration): Promise<void> {
  for (const batch of m.batches) {
    for (let i = 0; i < batch.repeat; i++) {
      try {
        await session.run({ text: batch.text });
      } catch (error) {
        const number = errorNumberOf(error);
        const state = number === undefined ? undefined : String(number);
        if (isTransient(error))
          throw new EngineError('transient', `migration ${m.name} was interrupted: ${describeMigrationError(error, batch)}`, state);
        throw new EngineError('migration-failed', `migration ${m.name} failed: ${describeMigrationError(error, batch)}`, state);
      }
    }
  }
}

async function previousChecksum(session: SqlSession, name: string): Promise<string | undefined> {
  const [row] = await session.run<{ checksum: string }>(recordedChecksumOf(name));
  return row ? String(row.checksum).trim() : undefined;
}

/** The migration's batches and its history row in one transaction, under the history lock; false when it was already applied. */
async function applyInTransaction(session: SqlSession, m: PlannedMigration): Promise<boolean> {
  await session.run(beginMigration);
  try {
    // Re-read under the lock: another applier may have got here first.
    const previous = await previousChecksum(session, m.name);
    if (previous !== undefined) {
      await session.run(rollbackIfOpen);
      if (previous !== m.checksum) throw changedAfterApplied(m.name, previous, m.checksum);
      return false;
    }
    await runBatches(session, m);
    const [tx] = await session.run<{ depth: number; state: number }>(transactionState);
    const depth = Number(tx?.depth);
    if (depth === 0) {
      throw new EngineError(
        'migration-failed',
        `migration ${m.name} ended the transaction Cutover runs it in (COMMIT or ROLLBACK inside a migration): ` +
          'what ran before that point may be committed; remove transaction control from the migration',
      );
    }
    if (depth > 1)
      throw new EngineError(
        'migration-failed',
        `migration ${m.name} left ${depth - 1} transaction(s) of its own open (BEGIN TRANSACTION without COMMIT); nothing of it was kept`,
      );
    if (Number(tx?.state) !== 1)
      throw new EngineError(
        'migration-failed',
        `migration ${m.name} left its transaction uncommittable (an error it caught doomed it); nothing of it was kept`,
      );
    await session.run(recordMigration(m.name, m.checksum, m.phase));
    await session.run(commitMigration);
    return true;
  } catch (error) {
    await session.run(rollbackIfOpen).catch(() => undefined);
    throw error;
  }
}

/** A migration marked -- cutover:no-transaction: serialised by a session lock; an error leaves what ran before it. */
async function applyWithoutTransaction(session: SqlSession, m: PlannedMigration): Promise<boolean> {
  await session.run(lockMigrationsForSession);
  const previous = await previousChecksum(session, m.name);
  if (previous !== undefined) {
    if (previous !== m.checksum) throw changedAfterApplied(m.name, previous, m.checksum);
    return false;
  }
  await runBatches(session, m);
  const [tx] = await session.run<{ depth: number }>(transactionState);
  if (Number(tx?.depth) !== 0) {
    await session.run(rollbackIfOpen).catch(() => undefined);
    throw new EngineError(
      'migration-failed',
      `migration ${m.name} left a transaction open (BEGIN TRANSACTION without COMMIT); it was rolled back`,
    );
  }
  await session.run(recordMigration(m.name, m.checksum, m.phase));
  return true;
}

/** Applies each pending migration in name order, once, checksummed in dbo.cutover_migrations. */
export async function applyMigrations(
  op: Operation,
  migrations: readonly Migration[],
  heartbeat: HeartbeatFn,
  options: MigrationOptions = {},
): Promise<MigrationResult> {
  const planned = planMigrations(migrations);
  const outcome: MigrationResult = { applied: [], alreadyApplied: [] };
  const recorded = await withSession(op.connect, op.db, op.names.original, async (session) => {
    await session.run(ensureHistory);
    if (planned.some((m) => m.phase)) await session.run(ensureHistoryPhase);
    const rows = await session.run<{ name: string; checksum: string }>(recordedChecksums);
    return new Map(rows.map((r) => [r.name, String(r.checksum).trim()]));
  });
  // Refuse an edited history, or one the package lacks part of, before changing anything.
  const missing = checkAgainstHistory(recorded, planned, options);
  if (missing.length > 0) outcome.missing = missing;
  for (const m of dueMigrations(planned, recorded, options)) {
    await withHeartbeat(
      heartbeat,
      () => ({ step: 'migrate', migration: m.name }),
      async () => {
        // A session per migration: its SET options, temporary tables and context do not leak into the next one.
        const applied = await withSession(op.connect, op.db, op.names.original, (session) =>
          m.transactional ? applyInTransaction(session, m) : applyWithoutTransaction(session, m),
        );
        (applied ? outcome.applied : outcome.alreadyApplied).push(m.name);
      },
    );
  }
  return outcome;
}

/** Names recorded in the history table, empty when there is none yet. */
export async function appliedMigrations(session: SqlSession): Promise<string[]> {
  const rows = await session.run<{ name: string }>(appliedMigrationsQuery);
  return rows.map((r) => r.name);
}
