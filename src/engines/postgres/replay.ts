/**
 * readwrite-replay, onto the original: the changes captured on the temporary copy (capture.ts) are applied in id order,
 * a batch per transaction, each change under its own savepoint, with the progress ("applied up to") and the conflicts
 * written in the same transaction. A crash anywhere loses a whole batch or nothing, and the next call resumes after the
 * last committed one: every change is applied exactly once. A change that no longer fits is recorded as a conflict and
 * replay goes on. Progress lives in the original, so an original restored to its restore point gets every change again.
 */
import type pg from 'pg';
import { EngineError, type DatabaseHandle, type HeartbeatFn } from '../engine.js';
import { withHeartbeat } from '../heartbeat.js';
import {
  CONFLICTS_LISTED,
  type CapturedOperation,
  type ReplayConflict,
  type ReplayOptions,
  type ReplayResult,
} from '../write-capture.js';
import { CHANGES, captureIdOf } from './capture.js';
import { settledHorizon } from './capture-horizon.js';
import { databaseExists } from './databases.js';
import { describeError, sqlStateOf } from './errors.js';
import { secretsOf } from '../connection-secrets.js';
import type { PhysicalNames } from './names.js';
import { levelSequences } from './sequences.js';
import { withConnection, withMaintenance } from './session.js';
import { ident } from './sql.js';

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

interface Change {
  id: string;
  schema_name: string;
  table_name: string;
  display: string;
  op: CapturedOperation;
  pkey: Record<string, unknown> | null;
  new_row: Record<string, unknown> | null;
  changed: string[] | null;
  xact: string;
}

/** A table of the original as replay needs it: its quoted name, and each column with whether it is generated. */
interface Target {
  name: string;
  columns: Map<string, { generated: boolean }>;
}

const COLUMNS = `
  select a.attname::text as name, a.attgenerated <> '' as generated
    from pg_class c join pg_namespace n on n.oid = c.relnamespace join pg_attribute a on a.attrelid = c.oid
   where n.nspname = $1 and c.relname = $2 and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped`;

/**
 * Errors that say nothing about the change but about the server or the login (a broken connection, a lock or deadlock,
 * a shutdown, a missing privilege, a read-only original): replay stops there and a later call resumes.
 */
const STOPS_REPLAY = new Set(['08', '25', '40', '53', '55', '57', '58', 'F0', 'XX']);
const stopsReplay = (error: unknown) => {
  const state = sqlStateOf(error);
  return state === undefined || STOPS_REPLAY.has(state.slice(0, 2)) || state === '42501';
};

const list = (names: string[]) => names.map((n) => `"${n}"`).join(', ');

/** One replay call: the tables looked up so far, and what it did. */
class Replay {
  private readonly targets = new Map<string, Target | undefined>();
  applied = 0;
  conflictCount = 0;
  readonly conflicts: ReplayConflict[] = [];

  constructor(
    private readonly original: pg.Client,
    private readonly copy: pg.Client,
    private readonly captureId: string,
    private readonly horizon: string,
    private readonly batchSize: number,
    private readonly secrets: readonly string[],
  ) {}

  private async target(change: Change): Promise<Target | undefined> {
    const id = `${change.schema_name}.${change.table_name}`;
    if (!this.targets.has(id)) {
      const rows = (await this.original.query<{ name: string; generated: boolean }>(COLUMNS, [change.schema_name, change.table_name])).rows;
      this.targets.set(
        id,
        rows.length === 0
          ? undefined
          : {
              name: `${ident(change.schema_name)}.${ident(change.table_name)}`,
              columns: new Map(rows.map((r) => [r.name, { generated: r.generated }])),
            },
      );
    }
    return this.targets.get(id);
  }

  /** Applies one change; returns why it does not fit, or undefined when applied. Database errors are thrown. */
  private async apply(change: Change, target: Target): Promise<string | undefined> {
    const key = Object.keys(change.pkey ?? {});
    const goneKey = key.filter((k) => !target.columns.has(k));
    if (goneKey.length > 0) return `key column ${list(goneKey)} no longer exists on the original`;
    const match = key.map((k) => `cutover_target.${ident(k)} = cutover_key.${ident(k)}`).join(' and ');
    const row = change.new_row ?? {};
    // Values of columns the migration dropped would be lost: not applied. A null in one loses nothing.
    const fitting = (columns: string[]) => {
      const gone = columns.filter((c) => !target.columns.has(c) && row[c] !== null && row[c] !== undefined);
      const kept = columns.filter((c) => target.columns.get(c)?.generated === false);
      return { gone, kept };
    };
    const populated = (param: number) => `jsonb_populate_record(null::${target.name}, $${param}::jsonb)`;
    switch (change.op) {
      case 'insert': {
        const { gone, kept } = fitting(Object.keys(row));
        if (gone.length > 0) return `column ${list(gone)} no longer exists on the original`;
        const columns = kept.map(ident).join(', ');
        if (kept.length === 0) await this.original.query(`insert into ${target.name} default values`);
        else {
          await this.original.query(
            `insert into ${target.name} (${columns}) overriding system value select ${columns} from ${populated(1)}`,
            [JSON.stringify(row)],
          );
        }
        return undefined;
      }
      case 'update': {
        const { gone, kept } = fitting(change.changed ?? []);
        if (gone.length > 0) return `column ${list(gone)} no longer exists on the original`;
        const found =
          kept.length === 0
            ? await this.original.query(`select 1 from ${target.name} as cutover_target, ${populated(1)} as cutover_key where ${match}`, [
                JSON.stringify(change.pkey),
              ])
            : await this.original.query(
                `update ${target.name} as cutover_target set ${kept.map((c) => `${ident(c)} = cutover_new.${ident(c)}`).join(', ')}
                   from ${populated(1)} as cutover_new, ${populated(2)} as cutover_key where ${match}`,
                [JSON.stringify(row), JSON.stringify(change.pkey)],
              );
        return found.rowCount === 0 ? 'the row no longer exists on the original' : undefined;
      }
      case 'delete': {
        const deleted = await this.original.query(`delete from ${target.name} as cutover_target using ${populated(1)} as cutover_key where ${match}`, [
          JSON.stringify(change.pkey),
        ]);
        return deleted.rowCount === 0 ? 'the row no longer exists on the original' : undefined;
      }
      case 'truncate':
        await this.original.query(`truncate ${target.name}`);
        return undefined;
    }
  }

  /** A change, or the truncates of one statement together (their tables may reference each other). */
  private async applyGroup(group: Change[]): Promise<string | undefined> {
    if (group.length > 1) {
      const targets = await Promise.all(group.map((c) => this.target(c)));
      const missing = group.filter((_, i) => targets[i] === undefined).map((c) => c.display);
      if (missing.length > 0) return `table ${missing.join(', ')} no longer exists on the original`;
      await this.original.query(`truncate ${targets.map((t) => t!.name).join(', ')}`);
      return undefined;
    }
    const change = group[0]!;
    const target = await this.target(change);
    return target ? this.apply(change, target) : 'the table no longer exists on the original';
  }

  /** Kept in the original, whole (the row too), in the batch's transaction. */
  private async record(group: Change[], reason: string): Promise<ReplayConflict[]> {
    for (const change of group) {
      await this.original.query(
        `insert into ${CONFLICTS} (capture_id, change_id, table_name, op, pkey, new_row, reason) values ($1, $2, $3, $4, $5, $6, $7)`,
        [this.captureId, change.id, change.display, change.op, JSON.stringify(change.pkey), JSON.stringify(change.new_row), reason],
      );
    }
    return group.map((change) => ({ table: change.display, key: change.pkey, op: change.op, reason }));
  }

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
      const changes = (
        await this.copy.query<Change>(
          // Ordered by the bigint column c.id, not by the text it is selected as.
          `select c.id::text, c.schema_name, c.table_name, format('%I.%I', c.schema_name, c.table_name) as display, c.op, c.pkey,
                  c.new_row, c.changed, c.xact::text
             from ${CHANGES} c where c.id > $1 and c.id <= $2 order by c.id limit $3`,
          [progress.rows[0]!.upto, this.horizon, this.batchSize],
        )
      ).rows;
      if (changes.length === 0) {
        await this.original.query('rollback');
        return false;
      }
      let batchApplied = 0;
      const batchConflicts: ReplayConflict[] = [];
      for (let i = 0; i < changes.length; ) {
        const group = [changes[i]!];
        while (group[0]!.op === 'truncate' && changes[i + group.length]?.op === 'truncate' && changes[i + group.length]!.xact === group[0]!.xact) {
          group.push(changes[i + group.length]!);
        }
        i += group.length;
        await this.original.query('savepoint cutover_change');
        let reason: string | undefined;
        try {
          reason = await this.applyGroup(group);
        } catch (error) {
          if (stopsReplay(error)) throw error;
          reason = describeError(error, this.secrets);
        }
        if (reason === undefined) {
          await this.original.query('release savepoint cutover_change');
          batchApplied += group.length;
        } else {
          await this.original.query('rollback to savepoint cutover_change');
          batchConflicts.push(...(await this.record(group, reason)));
        }
      }
      await this.original.query(
        `update ${PROGRESS} set applied_up_to = $2, applied = applied + $3, conflicts = conflicts + $4, updated_at = now() where capture_id = $1`,
        [this.captureId, changes.at(-1)!.id, batchApplied, batchConflicts.length],
      );
      await this.original.query('commit');
      // Counted once committed: a batch that fails is done again, whole, by the next attempt.
      this.applied += batchApplied;
      this.conflictCount += batchConflicts.length;
      this.conflicts.push(...batchConflicts.slice(0, CONFLICTS_LISTED - this.conflicts.length));
      return true;
    } catch (error) {
      await this.original.query('rollback').catch(() => undefined);
      throw error;
    }
  }

  /** Every batch up to the horizon; a batch that lost a deadlock is tried again. */
  async run(): Promise<void> {
    for (let attempt = 1; ; ) {
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
          const horizon = await settledHorizon(copy, options.writersTimeoutMs ?? DEFAULT_WRITERS_TIMEOUT_MS);
          await prepareOriginal(original, captureId);
          replay = new Replay(original, copy, captureId, horizon, options.batchSize ?? DEFAULT_BATCH, secretsOf(db));
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
