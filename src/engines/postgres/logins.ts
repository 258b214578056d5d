/**
 * The SQL of the logins of one environment's database (docs/security.md): the migration login owns the schema's
 * objects and may change them, the application login may only read and write them, nobody else may connect, and
 * neither may create or drop a database. Pure builders: the demo, the test stack and operators run them as a superuser.
 */
import { HISTORY } from './migrations.js';
import { ident, literal } from './sql.js';

export interface DatabaseLoginRoles {
  /** DDL on the environment's database only. */
  migration: string;
  /** DML only: what slots get. */
  app: string;
}

/** CREATE ROLE, or ALTER ROLE when it exists: a login with no right beyond its password. */
export function loginRoleStatement(role: string, password: string, exists: boolean): string {
  const rights = 'login nosuperuser nocreatedb nocreaterole noreplication nobypassrls';
  return `${exists ? 'alter' : 'create'} role ${ident(role)} with ${rights} password ${literal(password)}`;
}

/** On the maintenance database: who may connect to the environment's database (by default, every login may). */
export function databaseAccessStatements(database: string, roles: DatabaseLoginRoles): string[] {
  return [
    `revoke all on database ${ident(database)} from public`,
    `grant connect, temporary, create on database ${ident(database)} to ${ident(roles.migration)}`,
    `grant connect, temporary on database ${ident(database)} to ${ident(roles.app)}`,
  ];
}

/** Tables, views and sequences of the application's schemas (a sequence that belongs to a column follows its table). */
const APPLICATION_RELATIONS = `
  select n.nspname, c.relname, c.relkind, c.relowner from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind in ('r', 'p', 'v', 'm', 'f', 'S')
     and n.nspname not in ('information_schema', 'cutover_read_only') and n.nspname not like 'pg\\_%'
     and not (c.relkind = 'S' and exists (
       select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = c.oid and d.deptype in ('a', 'i')))`;

/** Objects made before the migration login existed become its own, so that later migrations may change them. */
function adoptStatement(migration: string): string {
  return `do $adopt$
  declare r record;
  begin
    for r in ${APPLICATION_RELATIONS} loop
      if r.relowner <> ${literal(migration)}::regrole::oid then
        execute format('alter %s %I.%I owner to %I',
          case r.relkind when 'S' then 'sequence' when 'v' then 'view' when 'm' then 'materialized view'
                         when 'f' then 'foreign table' else 'table' end,
          r.nspname, r.relname, ${literal(migration)});
      end if;
    end loop;
  end $adopt$`;
}

/** In the environment's database: the migration login creates, the application login uses what it creates. */
export function schemaAccessStatements(roles: DatabaseLoginRoles): string[] {
  const migration = ident(roles.migration);
  const app = ident(roles.app);
  return [
    'revoke create on schema public from public',
    `grant usage, create on schema public to ${migration}`,
    `grant usage on schema public to ${app}`,
    `alter default privileges for role ${migration} grant usage on schemas to ${app}`,
    `alter default privileges for role ${migration} grant select, insert, update, delete on tables to ${app}`,
    `alter default privileges for role ${migration} grant usage, select, update on sequences to ${app}`,
    adoptStatement(roles.migration),
    `grant select, insert, update, delete on all tables in schema public to ${app}`,
    `grant usage, select, update on all sequences in schema public to ${app}`,
    protectMigrationHistoryStatement,
  ];
}

/**
 * Only the owner of the migration history may touch it: an application that rewrote it could make the next deployment
 * skip a migration. Default privileges grant the application login every new table, this one included; this takes it back.
 * Run by the migration login after each migration run (and by the setup); a no-op for a login that does not own it.
 */
export const protectMigrationHistoryStatement = `do $protect$
  declare r record;
  begin
    for r in select distinct a.grantee from pg_class c, aclexplode(c.relacl) a
              where c.oid = to_regclass(${literal(HISTORY)}) and a.grantee <> c.relowner
                and pg_has_role(current_user, c.relowner, 'USAGE') loop
      if r.grantee = 0 then
        execute format('revoke all on table %s from public', ${literal(HISTORY)});
      else
        execute format('revoke all on table %s from %I', ${literal(HISTORY)}, pg_get_userbyid(r.grantee));
      end if;
    end loop;
  end $protect$`;
