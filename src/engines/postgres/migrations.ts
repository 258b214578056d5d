import type pg from 'pg';
import {
  EngineError,
  type DatabaseHandle,
  type HeartbeatFn,
  type Migration,
  type MigrationOptions,
  type MigrationResult,
  type UndoResult,
} from '../engine.js';
import { changedAfterApplied, checkAgainstHistory } from '../migration-history.js';
import { byName, checkMigrationNames, checksumOf, dueMigrations } from '../migration-set.js';
import { isTransient, sqlStateOf } from './errors.js';
import { withHeartbeat } from '../heartbeat.js';
import type { PhysicalNames } from './names.js';
import { withConnection } from './session.js';

/** Fixed key of the transaction-level advisory lock that serialises appliers of one database. */
const MIGRATIONS_LOCK_KEY = '7160413102571935299';

export const HISTORY = 'public.cutover_migrations';

const CREATE_HISTORY = `create table if not exists ${HISTORY} (
  name text primary key,
  checksum text not null,
  applied_at timestamptz not null default now(),
  phase text
)`;

/** Histories made before expand/contract migrations lack the phase column (null: a plain migration). */
const HISTORY_HAS_PHASE =
  `select exists (select 1 from pg_attribute where attrelid = '${HISTORY}'::regclass ` +
  "and attname = 'phase' and not attisdropped) as found";
const ADD_PHASE = `alter table ${HISTORY} add column if not exists phase text`;

/** "relation "x" does not exist (SQLSTATE 42P01) at line 3", from the PostgreSQL error of a migration. */
function describeMigrationError(error: unknown, sql: string): string {
  const e = error as { message?: string; position?: string; hint?: string };
  const parts = [e.message ?? String(error)];
  const state = sqlStateOf(error);
  if (state) parts.push(`(SQLSTATE ${state})`);
  const position = Number(e.position);
  if (Number.isInteger(position) && position > 0) parts.push(`at line ${sql.slice(0, position - 1).split('\n').length}`);
  if (e.hint) parts.push(`hint: ${e.hint}`);
  return parts.join(' ');
}

/** Marks the transaction a migration runs in: gone afterwards means the migration ended that transaction itself. */
const WRAPPER_SAVEPOINT = 'cutover_migration';

async function assertStillWrapped(client: pg.Client, name: string): Promise<void> {
  try {
    await client.query(`release savepoint ${WRAPPER_SAVEPOINT}`);
  } catch {
    throw new EngineError(
      'migration-failed',
      `migration ${name} ended the transaction Cutover runs it in (COMMIT, ROLLBACK or BEGIN inside a migration): ` +
        'what ran before that point may be committed; remove transaction control from the migration',
    );
  }
}

async function inTransaction<T>(client: pg.Client, work: () => Promise<T>): Promise<T> {
  await client.query('begin read write');
  try {
    await client.query('select pg_advisory_xact_lock($1::bigint)', [MIGRATIONS_LOCK_KEY]);
    const result = await work();
    await client.query('commit');
    return result;
  } catch (error) {
    await client.query('rollback').catch(() => undefined);
    throw error;
  }
}

async function recordedChecksums(client: pg.Client): Promise<Map<string, string>> {
  const result = await client.query<{ name: string; checksum: string }>(`select name, checksum from ${HISTORY}`);
  return new Map(result.rows.map((r) => [r.name, r.checksum]));
}

/** Applies each pending migration in its own transaction together with its history row. */
export async function applyMigrations(
  db: DatabaseHandle,
  names: PhysicalNames,
  migrations: Migration[],
  heartbeat: HeartbeatFn,
  options: MigrationOptions = {},
): Promise<MigrationResult> {
  checkMigrationNames(migrations);
  const ordered = [...migrations].sort(byName).map((m) => ({ ...m, checksum: checksumOf(m.sql) }));
  const outcome: MigrationResult = { applied: [], alreadyApplied: [] };
  await withConnection(db, names.original, async (client) => {
    // Refuse an edited history, or one the package lacks part of, before changing anything.
    const recorded = await inTransaction(client, async () => {
      await client.query(CREATE_HISTORY);
      const phased = await client.query<{ found: boolean }>(HISTORY_HAS_PHASE);
      if (!phased.rows[0]?.found) await client.query(ADD_PHASE);
      return recordedChecksums(client);
    });
    const missing = checkAgainstHistory(recorded, ordered, options);
    if (missing.length > 0) outcome.missing = missing;
    for (const m of dueMigrations(ordered, recorded, options)) {
      await withHeartbeat(
        heartbeat,
        () => ({ step: 'migrate', migration: m.name }),
        async () => {
          const applied = await inTransaction(client, async () => {
            // Re-read under the lock: another applier may have got here first.
            const previous = (await recordedChecksums(client)).get(m.name);
            if (previous !== undefined) {
              if (previous !== m.checksum) throw changedAfterApplied(m.name, previous, m.checksum);
              return false;
            }
            try {
              await client.query(`savepoint ${WRAPPER_SAVEPOINT}`);
              await client.query(m.sql);
            } catch (error) {
              if (isTransient(error))
                throw new EngineError(
                  'transient',
                  `migration ${m.name} was interrupted: ${describeMigrationError(error, m.sql)}`,
                  sqlStateOf(error),
                );
              throw new EngineError(
                'migration-failed',
                `migration ${m.name} failed: ${describeMigrationError(error, m.sql)}`,
                sqlStateOf(error),
              );
            }
            await assertStillWrapped(client, m.name);
            await client.query(`insert into ${HISTORY} (name, checksum, phase) values ($1, $2, $3)`, [m.name, m.checksum, m.phase ?? null]);
            return true;
          });
          (applied ? outcome.applied : outcome.alreadyApplied).push(m.name);
        },
      );
      // A migration's SET, SET ROLE or temporary table must not leak into the next one.
      await client.query('discard all');
    }
  });
  return outcome;
}

/**
 * Reverts applied expand migrations with their undo scripts, newest first. Each undo runs in one transaction with the
 * removal of its history row, under the appliers' lock: a crash leaves it either applied and recorded, or undone.
 */
export async function undoMigrations(
  db: DatabaseHandle,
  names: PhysicalNames,
  migrations: Migration[],
  heartbeat: HeartbeatFn,
): Promise<UndoResult> {
  checkMigrationNames(migrations);
  for (const m of migrations) {
    if (m.undo === undefined) throw new EngineError('invalid-input', `migration ${m.name} has no undo script: it cannot be reverted`);
  }
  const newestFirst = [...migrations].sort(byName).reverse();
  const outcome: UndoResult = { undone: [] };
  await withConnection(db, names.original, async (client) => {
    for (const m of newestFirst) {
      await withHeartbeat(
        heartbeat,
        () => ({ step: 'undo', migration: m.name }),
        async () => {
          const undone = await inTransaction(client, async () => {
            if (!(await client.query(`select to_regclass('${HISTORY}') is not null as found`)).rows[0]?.found) return false;
            if (!(await recordedChecksums(client)).has(m.name)) return false;
            try {
              await client.query(`savepoint ${WRAPPER_SAVEPOINT}`);
              await client.query(m.undo!);
            } catch (error) {
              if (isTransient(error))
                throw new EngineError(
                  'transient',
                  `undo of migration ${m.name} was interrupted: ${describeMigrationError(error, m.undo!)}`,
                );
              throw new EngineError(
                'migration-failed',
                `undo of migration ${m.name} failed: ${describeMigrationError(error, m.undo!)}`,
                sqlStateOf(error),
              );
            }
            await assertStillWrapped(client, `${m.name} (its undo script)`);
            await client.query(`delete from ${HISTORY} where name = $1`, [m.name]);
            return true;
          });
          if (undone) outcome.undone.push(m.name);
        },
      );
      await client.query('discard all');
    }
  });
  return outcome;
}

/** Names recorded in the history table, empty when there is none yet. */
export async function appliedMigrations(client: pg.Client): Promise<string[]> {
  const exists = await client.query<{ found: boolean }>(`select to_regclass('${HISTORY}') is not null as found`);
  if (!exists.rows[0]?.found) return [];
  const result = await client.query<{ name: string }>(`select name from ${HISTORY} order by name collate "C"`);
  return result.rows.map((r) => r.name);
}
