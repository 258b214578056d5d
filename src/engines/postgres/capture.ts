/**
 * readwrite-replay, on the temporary copy: every row change the application makes there is recorded in a change table
 * by an AFTER row trigger on each of its tables, in one transaction with the change itself, for replay onto the
 * migrated original (replay.ts). Ordinary triggers: the logical replication worker that makes a copy follow its
 * original runs with session_replication_role = replica and does not fire them, so the original's own writes are never
 * captured back.
 */
import type pg from 'pg';
import { EngineError, type DatabaseHandle } from '../engine.js';
import { DEFAULT_SEQUENCE_GAP, type CaptureOptions, type CaptureResult } from '../write-capture.js';
import { HISTORY } from './migrations.js';
import type { PhysicalNames } from './names.js';
import { withCutoverDdl } from './read-only.js';
import { moveSequencesAhead } from './sequence-gap.js';
import { withConnection, withMaintenance } from './session.js';
import { databaseExists } from './databases.js';
import { ident, literal } from './sql.js';

export const CAPTURE_SCHEMA = 'cutover_capture';
export const CHANGES = `${CAPTURE_SCHEMA}.changes`;
export const CHANGES_SEQUENCE = `${CAPTURE_SCHEMA}.changes_id_seq`;
const STATE = `${CAPTURE_SCHEMA}.state`;
const TRIGGER = 'cutover_capture';
const TRUNCATE_TRIGGER = 'cutover_capture_truncate';

/** id gives the replay order: for two changes of one row, the later one waited for the earlier one's commit. */
const CREATE_TABLES = [
  `create schema if not exists ${CAPTURE_SCHEMA}`,
  `revoke all on schema ${CAPTURE_SCHEMA} from public`,
  `create table if not exists ${CHANGES} (
     id bigserial primary key,
     schema_name text not null,
     table_name text not null,
     op text not null check (op in ('insert', 'update', 'delete', 'truncate')),
     pkey jsonb,
     new_row jsonb,
     changed text[],
     xact xid8 not null default pg_current_xact_id(),
     at timestamptz not null default clock_timestamp())`,
  `create table if not exists ${STATE} (
     one boolean primary key default true check (one),
     capture_id uuid not null default gen_random_uuid(),
     sequence_gap bigint not null,
     started_at timestamptz not null default now())`,
];

/**
 * tg_argv: schema, table (the one the trigger was made on, so a partition's rows are recorded under their partitioned
 * table), then the primary key's columns. Changes made by another trigger or by a foreign key's cascade (depth > 1)
 * are not recorded: replaying the change that caused them fires the original's own triggers and keys, which redo them
 * the way the migrated schema wants. An update that changes nothing has nothing to replay.
 */
const RECORD_FUNCTION = `
  create or replace function ${CAPTURE_SCHEMA}.record() returns trigger
  language plpgsql security definer set search_path = pg_catalog, pg_temp as $fn$
  declare
    old_row jsonb;
    new_row jsonb;
    changed text[];
    pkey jsonb := '{}';
  begin
    if pg_trigger_depth() > 1 then return null; end if;
    if tg_op = 'TRUNCATE' then
      insert into ${CHANGES} (schema_name, table_name, op) values (tg_argv[0], tg_argv[1], 'truncate');
      return null;
    end if;
    if tg_op <> 'DELETE' then new_row := to_jsonb(new); end if;
    if tg_op <> 'INSERT' then old_row := to_jsonb(old); end if;
    if tg_op = 'UPDATE' then
      select array_agg(n.key order by n.key) into changed from jsonb_each(new_row) n where n.value is distinct from old_row -> n.key;
      if changed is null then return null; end if;
    end if;
    for i in 2 .. tg_nargs - 1 loop
      pkey := pkey || jsonb_build_object(tg_argv[i], coalesce(old_row, new_row) -> tg_argv[i]);
    end loop;
    insert into ${CHANGES} (schema_name, table_name, op, pkey, new_row, changed)
    values (tg_argv[0], tg_argv[1], lower(tg_op), pkey, new_row, changed);
    return null;
  end $fn$`;

/** The application's tables (partitions are covered by their partitioned table's trigger), with their primary keys. */
const TABLES = `
  select n.nspname as schema, c.relname as table, format('%I.%I', n.nspname, c.relname) as display,
         (select array_agg(a.attname::text order by k.ord)
            from pg_index i, unnest(i.indkey) with ordinality k(attnum, ord), pg_attribute a
           where i.indrelid = c.oid and i.indisprimary and a.attrelid = c.oid and a.attnum = k.attnum) as key
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p') and not c.relispartition and c.relpersistence <> 't'
     and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%' and n.nspname not like 'cutover\\_%'
     and c.oid is distinct from to_regclass('${HISTORY}')
   order by 1, 2`;

/** Writes through a view's INSTEAD OF trigger reach the tables from inside a trigger, where capture does not record them. */
const INSTEAD_OF_VIEWS = `
  select distinct format('%I.%I', n.nspname, c.relname) as name
    from pg_trigger t join pg_class c on c.oid = t.tgrelid join pg_namespace n on n.oid = c.relnamespace
   where not t.tgisinternal and (t.tgtype & 64) <> 0 and n.nspname not like 'cutover\\_%'
   order by 1`;

interface TableRow {
  schema: string;
  table: string;
  /** As the operator reads it: quoted only where needed. */
  display: string;
  key: string[] | null;
}

const qualified = (t: TableRow) => `${ident(t.schema)}.${ident(t.table)}`;

/** Refused before anything is made: replay needs a key to find each row, and sees no write made through a view's trigger. */
function refusal(tables: TableRow[], views: string[]): EngineError | undefined {
  const keyless = tables.filter((t) => t.key === null).map((t) => t.display);
  if (keyless.length > 0) {
    return new EngineError(
      'invalid-input',
      `cannot capture the writes of the temporary copy: ${keyless.join(', ')} ${keyless.length === 1 ? 'has' : 'have'} no primary key, ` +
        'and replay needs one to find each row; give each table a primary key, or deploy in readonly mode',
    );
  }
  if (views.length > 0) {
    return new EngineError(
      'invalid-input',
      `cannot capture the writes of the temporary copy: ${views.join(', ')} ${views.length === 1 ? 'takes' : 'take'} writes through an ` +
        'INSTEAD OF trigger, which capture cannot see; deploy in readonly mode',
    );
  }
  return undefined;
}

function triggerStatements(t: TableRow): string[] {
  const args = [t.schema, t.table, ...(t.key ?? [])].map(literal).join(', ');
  const on = qualified(t);
  return [
    `drop trigger if exists ${TRIGGER} on ${on}`,
    `create trigger ${TRIGGER} after insert or update or delete on ${on} for each row execute function ${CAPTURE_SCHEMA}.record(${args})`,
    `drop trigger if exists ${TRUNCATE_TRIGGER} on ${on}`,
    `create trigger ${TRUNCATE_TRIGGER} after truncate on ${on} for each statement execute function ${CAPTURE_SCHEMA}.record(${args})`,
  ];
}

/** The capture's id, or undefined when none was started on this copy. */
export async function captureIdOf(copy: pg.Client): Promise<string | undefined> {
  if (!(await copy.query<{ found: boolean }>(`select to_regclass('${STATE}') is not null as found`)).rows[0]?.found) return undefined;
  return (await copy.query<{ id: string }>(`select capture_id::text as id from ${STATE}`)).rows[0]?.id;
}

/**
 * Starts (or re-checks) capture on the temporary copy, in one transaction: change table, triggers on every table,
 * sequences a gap past the original's. Idempotent: a second call keeps the capture and its changes, and adds triggers
 * to tables made since.
 */
export async function startCapture(db: DatabaseHandle, names: PhysicalNames, options: CaptureOptions): Promise<CaptureResult> {
  const gap = options.sequenceGap ?? DEFAULT_SEQUENCE_GAP;
  if (!Number.isSafeInteger(gap) || gap < 1) {
    throw new EngineError('invalid-input', `sequenceGap must be a positive whole number, not ${String(gap)}`);
  }
  await withMaintenance(db, async (admin) => {
    if (!(await databaseExists(admin, names.temporary))) {
      throw new EngineError(
        'invalid-input',
        `database "${names.original}" has no temporary copy ("${names.temporary}") to capture writes on`,
      );
    }
  });
  return withConnection(db, names.original, (original) =>
    withConnection(db, names.temporary, (copy) =>
      withCutoverDdl(copy, async () => {
        // Triggers wait for the tables' writers; a long wait holds back every writer queued behind it.
        await copy.query("set local lock_timeout = '10s'");
        const tables = (await copy.query<TableRow>(TABLES)).rows;
        const refused = refusal(
          tables,
          (await copy.query<{ name: string }>(INSTEAD_OF_VIEWS)).rows.map((v) => v.name),
        );
        if (refused) throw refused;
        for (const statement of CREATE_TABLES) await copy.query(statement);
        await copy.query(RECORD_FUNCTION);
        await copy.query(`insert into ${STATE} (sequence_gap) values ($1) on conflict do nothing`, [gap]);
        for (const t of tables) for (const statement of triggerStatements(t)) await copy.query(statement);
        const moved = await moveSequencesAhead(copy, original, gap);
        const captureId = (await captureIdOf(copy))!;
        return {
          captureId,
          tables: tables.length,
          sequencesMoved: moved.moved,
          sequenceGap: gap,
          ...(moved.narrow.length > 0 ? { narrowGaps: moved.narrow } : {}),
        };
      }),
    ),
  );
}
