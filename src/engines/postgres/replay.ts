/**
 * readwrite-replay, onto the original: the changes captured on the temporary copy (capture.ts) are applied in id order,
 * a batch per transaction (one call of the apply function, replay-apply.ts, each change in its own subtransaction),
 * with the progress ("applied up to") and the conflicts written in the same transaction. A crash anywhere loses a
 * whole batch or nothing, and the next call resumes after the last committed one: every change is applied exactly
 * once. A change that no longer fits is recorded as a conflict and replay goes on. Progress lives in the original,
 * so an original restored to its restore point gets every change again.
 */
import type pg from 'pg';
import { EngineError, type DatabaseHandle, type HeartbeatFn } from '../engine.js';
import { withHeartbeat } from '../heartbeat.js';
import { CONFLICTS_LISTED, type CapturedOperation, type ReplayConflict, type ReplayOptions, type ReplayResult } from '../write-capture.js';
import { CHANGES, captureIdOf } from './capture.js';
import { settledHorizon } from './capture-horizon.js';
import { APPLY_FUNCTION, CREATE_APPLY_FUNCTION } from './replay-apply.js';
import { databaseExists } from './databases.js';
import { sqlStateOf } from './errors.js';
import type { PhysicalNames } from './names.js';
import { levelSequences } from './sequences.js';
import { withConnection, withMaintenance } from './session.js';

/** apply() in replay-apply.ts records conflicts under this name too. */
const REPLAY_SCHEMA = 'cutover_replay';
export const PROGRESS = `${REPLAY_SCHEMA}.progress`;
export const CONFLICTS = `${REPLAY_SCHEMA}.conflicts`;

const CREATE_TABLES = [
  `create schema if not exists ${REPLAY_SCHEMA}`,
  `revoke all on schema ${REPLAY_SCHEMA} from public`,
  `create table if not exists ${PROGRESS} (
     capture_id uuid primary key,
     applied_up_to bigint not null default 0,
     applied bigint not null default 0,
     conflicts bigint not null default 0,
     updated_at timestamptz not null default now())`,
  `create table if not exists ${CONFLICTS} (
     capture_id uuid not null,
     change_id bigint not null,
     table_name text not null,
     op text not null,
     pkey jsonb,
     new_row jsonb,
     reason text not null,
     at timestamptz not null default now(),
     primary key (capture_id, change_id))`,
];

const DEFAULT_BATCH = 500;
const DEFAULT_WRITERS_TIMEOUT_MS = 30_000;
/** A batch that lost a deadlock or a serialization race with the preview is tried again this many times. */
const BATCH_ATTEMPTS = 3;

/**
 * A batch of the copy's changes after `$1` up to the horizon `$2`, as the jsonb array the apply function takes (passed
 * on as text, never parsed here), with its last id. Ordered by the bigint column, not by any text made of it.
 */
const BATCH = `
  select jsonb_agg(to_jsonb(b) order by b.id)::text as changes, max(b.id)::text as last, count(*)::int as size
    from (select c.id, c.schema_name, c.table_name, format('%I.%I', c.schema_name, c.table_name) as display, c.op, c.pkey,
                 c.new_row, c.changed, c.xact::text as xact
            from ${CHANGES} c where c.id > $1 and c.id <= $2 order by c.id limit $3) b`;

interface ConflictRow {
  change_id: string;
  table_name: string;
  op: CapturedOperation;
  pkey: Record<string, unknown> | null;
  reason: string;
}

/** One replay call: what it did so far. */
class Replay {
  applied = 0;
  conflictCount = 0;
  readonly conflicts: ReplayConflict[] = [];

  constructor(
    private readonly original: pg.Client,
    private readonly copy: pg.Client,
    private readonly captureId: string,
    private readonly horizon: string,
    private readonly batchSize: number,
  ) {}

  /** One transaction: the changes after the committed progress, up to the batch size; false when there were none. */
  async batch(): Promise<boolean> {
    await this.original.query('begin');
    try {
      // Deferred constraints are checked at each change, so that a failure is that change's conflict, not the batch's.
      await this.original.query('set constraints all immediate');
      // The row lock serialises two replays of one capture (a retry while an earlier attempt still runs).
      const progress = await this.original.query<{ upto: string }>(
        `select applied_up_to::text as upto from ${PROGRESS} where capture_id = $1 for update`,
        [this.captureId],
      );
      const batch = (
        await this.copy.query<{ changes: string | null; last: string | null; size: number }>(BATCH, [
          progress.rows[0]!.upto,
          this.horizon,
          this.batchSize,
        ])
      ).rows[0];
      if (!batch?.changes || !batch.last) {
        await this.original.query('rollback');
        return false;
      }
      const conflicts = (
        await this.original.query<ConflictRow>(`select * from ${APPLY_FUNCTION}($1, $2::jsonb)`, [this.captureId, batch.changes])
      ).rows;
      const applied = batch.size - conflicts.length;
      await this.original.query(
        `update ${PROGRESS} set applied_up_to = $2, applied = applied + $3, conflicts = conflicts + $4, updated_at = now() where capture_id = $1`,
        [this.captureId, batch.last, applied, conflicts.length],
      );
      await this.original.query('commit');
      // Counted once committed: a batch that fails is done again, whole, by the next attempt.
      this.applied += applied;
      this.conflictCount += conflicts.length;
      for (const c of conflicts.slice(0, CONFLICTS_LISTED - this.conflicts.length)) {
        this.conflicts.push({ table: c.table_name, key: c.pkey, op: c.op, reason: c.reason });
      }
      return true;
    } catch (error) {
      await this.original.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /** Every batch up to the horizon; a batch that lost a deadlock is tried again. */
  async run(): Promise<void> {
    for (let attempt = 1; ;) {
      try {
        if (!(await this.batch())) return;
        attempt = 1;
      } catch (error) {
        if (sqlStateOf(error)?.startsWith('40') && attempt < BATCH_ATTEMPTS) {
          attempt++;
          continue;
        }
        throw error;
      }
    }
  }
}

async function prepareOriginal(original: pg.Client, captureId: string): Promise<void> {
  await original.query('begin');
  try {
    // Two first replays at once would both create the tables.
    await original.query(`select pg_advisory_xact_lock(hashtext('${PROGRESS}'))`);
    for (const statement of CREATE_TABLES) await original.query(statement);
    await original.query(CREATE_APPLY_FUNCTION);
    await original.query(`insert into ${PROGRESS} (capture_id) values ($1) on conflict do nothing`, [captureId]);
    await original.query('commit');
  } catch (error) {
    await original.query('rollback').catch(() => undefined);
    throw error;
  }
}

/**
 * Replays onto the original every change captured on the copy that it has not applied yet, up to the last one whose
 * transaction has ended; a final replay then moves the original's sequences up to the copy's. Call it as often as
 * needed: each call applies only the newer changes.
 */
export async function replayChanges(
  db: DatabaseHandle,
  names: PhysicalNames,
  heartbeat: HeartbeatFn,
  options: ReplayOptions,
): Promise<ReplayResult> {
  const { batchSize = DEFAULT_BATCH, writersTimeoutMs = DEFAULT_WRITERS_TIMEOUT_MS } = options;
  if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
    throw new EngineError('invalid-input', `batchSize must be a positive whole number, not ${String(batchSize)}`);
  }
  if (!Number.isSafeInteger(writersTimeoutMs) || writersTimeoutMs < 0) {
    throw new EngineError('invalid-input', `writersTimeoutMs must be a whole number of milliseconds, not ${String(writersTimeoutMs)}`);
  }
  await withMaintenance(db, async (admin) => {
    for (const database of [names.original, names.temporary]) {
      if (!(await databaseExists(admin, database))) throw new EngineError('invalid-input', `database "${database}" does not exist`);
    }
  });
  const done = await withConnection(db, names.temporary, (copy) =>
    withConnection(db, names.original, async (original) => {
      const captureId = await captureIdOf(copy);
      if (!captureId) {
        throw new EngineError('invalid-input', `the temporary copy "${names.temporary}" captures no writes: start capture first`);
      }
      // Names the session for the operator (pg_stat_activity) while it holds rows of the original.
      await original.query("set application_name = 'cutover-replay'");
      let replay: Replay | undefined;
      await withHeartbeat(
        heartbeat,
        () => ({ step: 'replay', applied: replay?.applied ?? 0, conflicts: replay?.conflictCount ?? 0 }),
        async () => {
          const horizon = await settledHorizon(copy, writersTimeoutMs);
          await prepareOriginal(original, captureId);
          replay = new Replay(original, copy, captureId, horizon, batchSize);
          await replay.run();
        },
      );
      const total = await original.query<{ applied: string; conflicts: string }>(
        `select applied::text, conflicts::text from ${PROGRESS} where capture_id = $1`,
        [captureId],
      );
      return {
        applied: replay!.applied,
        conflicts: replay!.conflicts,
        conflictCount: replay!.conflictCount,
        total: { applied: Number(total.rows[0]?.applied ?? 0), conflicts: Number(total.rows[0]?.conflicts ?? 0) },
      };
    }),
  );
  // Keys the copy generated are on the original now: once the copy takes no more, the original's sequences go past them.
  const sequencesSynced = options.final ? await levelSequences(db, names.temporary, names.original) : 0;
  return { ...done, sequencesSynced };
}
