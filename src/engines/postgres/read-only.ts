import type pg from 'pg';
import type { DatabaseHandle } from '../engine.js';
import { isSuperuser } from './databases.js';
import type { PhysicalNames } from './names.js';
import { withConnection, withMaintenance } from './session.js';
import { ident } from './sql.js';

/** Everything Cutover adds to a read-only copy lives under these names, so it can be recognised and checked. */
const GUARD_SCHEMA = 'cutover_read_only';
const TABLE_TRIGGER = 'cutover_read_only';
const DDL_EVENT_TRIGGER = 'cutover_read_only_ddl';

/** Tables an application can write: every regular and partitioned table outside the system schemas. */
const USER_TABLES = `
  select n.nspname, c.relname, c.oid
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p')
     and n.nspname not in ('information_schema', '${GUARD_SCHEMA}')
     and n.nspname not like 'pg\\_%'`;

/**
 * The one writer let through is the copy's logical replication worker, applying the original's writes while the copy
 * follows it (it fires statement triggers for TRUNCATE only). No session can pass for one: the server sets backend_type.
 */
const REFUSE_WRITE_FUNCTION = `
  create or replace function ${GUARD_SCHEMA}.refuse_write() returns trigger
  language plpgsql set search_path = pg_catalog as $fn$
  begin
    if (select backend_type from pg_stat_get_activity(pg_backend_pid())) like 'logical replication%worker' then
      return null;
    end if;
    raise exception using
      errcode = 'read_only_sql_transaction',
      message = format('cannot execute %s on "%s.%s": the site is read-only during a deployment', tg_op, tg_table_schema, tg_table_name),
      hint = 'Cutover serves a read-only copy while the site is upgraded; writes are accepted again when the deployment completes.';
  end $fn$`;

const REFUSE_DDL_FUNCTION = `
  create or replace function ${GUARD_SCHEMA}.refuse_ddl() returns event_trigger
  language plpgsql set search_path = pg_catalog as $fn$
  begin
    raise exception using
      errcode = 'read_only_sql_transaction',
      message = format('cannot execute %s: the site is read-only during a deployment', tg_tag);
  end $fn$`;

/** Statement-level, and ENABLE ALWAYS so that even session_replication_role = replica does not skip it. */
const GUARD_EVERY_TABLE = `
  do $do$
  declare t record;
  begin
    for t in ${USER_TABLES} loop
      execute format('drop trigger if exists ${TABLE_TRIGGER} on %I.%I', t.nspname, t.relname);
      execute format('create trigger ${TABLE_TRIGGER} before insert or update or delete or truncate on %I.%I
                      for each statement execute function ${GUARD_SCHEMA}.refuse_write()', t.nspname, t.relname);
      execute format('alter table %I.%I enable always trigger ${TABLE_TRIGGER}', t.nspname, t.relname);
    end loop;
  end $do$`;

/**
 * Makes the temporary copy refuse writes for real: a session can turn default_transaction_read_only off,
 * but not the triggers (nor, when we are superuser, the DDL event trigger that protects them). Idempotent.
 */
export async function makeTemporaryReadOnly(db: DatabaseHandle, names: PhysicalNames): Promise<void> {
  await withConnection(db, names.temporary, async (copy) => {
    const superuser = await isSuperuser(copy);
    await copy.query('begin read write');
    try {
      // Our own DDL below would be refused by the event trigger of an earlier run: recreate it at the end.
      if (superuser) await copy.query(`drop event trigger if exists ${DDL_EVENT_TRIGGER}`);
      await copy.query(`create schema if not exists ${GUARD_SCHEMA}`);
      await copy.query(REFUSE_WRITE_FUNCTION);
      await copy.query(GUARD_EVERY_TABLE);
      if (superuser) {
        await copy.query(REFUSE_DDL_FUNCTION);
        await copy.query(`create event trigger ${DDL_EVENT_TRIGGER} on ddl_command_start execute function ${GUARD_SCHEMA}.refuse_ddl()`);
        await copy.query(`alter event trigger ${DDL_EVENT_TRIGGER} enable always`);
      }
      await copy.query('commit');
    } catch (error) {
      await copy.query('rollback').catch(() => undefined);
      throw error;
    }
  });
  await withMaintenance(db, (admin) => admin.query(`alter database ${ident(names.temporary)} set default_transaction_read_only = on`));
}

/**
 * Cutover's own DDL on a copy (the subscription that makes it follow): one read-write transaction that lifts the DDL
 * guard and puts it back before it commits, so that no other session ever sees the guard lifted.
 */
export async function withCutoverDdl<T>(copy: pg.Client, work: () => Promise<T>): Promise<T> {
  await copy.query('begin read write');
  try {
    const guard = await copy.query(`select 1 from pg_event_trigger where evtname = '${DDL_EVENT_TRIGGER}' and evtenabled <> 'D'`);
    const guarded = (guard.rowCount ?? 0) > 0;
    if (guarded) await copy.query(`alter event trigger ${DDL_EVENT_TRIGGER} disable`);
    const result = await work();
    if (guarded) await copy.query(`alter event trigger ${DDL_EVENT_TRIGGER} enable always`);
    await copy.query('commit');
    return result;
  } catch (error) {
    await copy.query('rollback').catch(() => undefined);
    throw error;
  }
}

/** Whether new sessions on the copy default to read-only (the per-database setting). */
async function readOnlyByDefault(admin: pg.Client, database: string): Promise<boolean> {
  const result = await admin.query<{ on: boolean }>(
    `select exists (
       select 1 from pg_db_role_setting s join pg_database d on d.oid = s.setdatabase
        where d.datname = $1 and s.setrole = 0
          and exists (select 1 from unnest(s.setconfig) c
                       where lower(c) in ('default_transaction_read_only=on', 'default_transaction_read_only=true',
                                          'default_transaction_read_only=1'))
     ) as on`,
    [database],
  );
  return result.rows[0]?.on === true;
}

/** Whether every user table of the copy carries an always-enabled refusing trigger. */
async function everyTableGuarded(copy: pg.Client): Promise<boolean> {
  const result = await copy.query<{ guarded: boolean }>(
    `select to_regproc('${GUARD_SCHEMA}.refuse_write') is not null
        and not exists (
          select 1 from (${USER_TABLES}) t
           where not exists (select 1 from pg_trigger g where g.tgrelid = t.oid and g.tgname = '${TABLE_TRIGGER}' and g.tgenabled = 'A')
        ) as guarded`,
  );
  return result.rows[0]?.guarded === true;
}

/** The truth for inspect(): read-only only when both the default and the triggers are in place. */
export async function isTemporaryReadOnly(db: DatabaseHandle, admin: pg.Client, names: PhysicalNames): Promise<boolean> {
  if (!(await readOnlyByDefault(admin, names.temporary))) return false;
  return withConnection(db, names.temporary, everyTableGuarded);
}
