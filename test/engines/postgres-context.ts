import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { freePort } from '../../src/process/free-port.js';
import type { DatabaseHandle, DatabaseRole } from '../../src/engines/engine.js';
import { createPostgresEngine } from '../../src/engines/postgres.js';
import type { DatabaseKind, EngineContractContext, EngineDialect, Session } from './contract.js';

export const postgresDialect: EngineDialect = {
  seed: (rows) => `
    create table items (id bigserial primary key, note text not null, created_at timestamptz not null default now());
    create index items_note on items (note);
    create table item_log (id bigserial primary key, item_id bigint not null references items (id), message text not null);
    create table counters (name text primary key, n bigint not null);
    insert into counters values ('writes', 0);
    insert into items (note) select 'seed ' || g from generate_series(1, ${rows}) g;
    insert into item_log (item_id, message) select id, 'created' from items;
    create view item_summary as select count(*) as items from items;`,
  writeTransaction: (note) => `
    begin;
    with i as (insert into items (note) values (${pg.escapeLiteral(note)}) returning id)
      insert into item_log (item_id, message) select id, 'created' from i;
    update counters set n = n + 1 where name = 'writes';
    commit;`,
  consistency: `
    select (select count(*) from items) as items,
           (select count(*) from item_log) as logs,
           (select count(*) from item_log l where not exists (select 1 from items i where i.id = l.item_id)) as orphans,
           (select n from counters where name = 'writes') as counter`,
  schemaSignature: `
    select 'column' as kind, table_name || '.' || column_name as name, data_type || ' ' || coalesce(column_default, '') as definition
      from information_schema.columns where table_schema = 'public'
    union all
    select 'index', indexname, indexdef from pg_indexes where schemaname = 'public'
    union all
    select 'view', viewname, definition from pg_views where schemaname = 'public'
    order by 1, 2`,
  insertUsingGenerator: `insert into items (note) values ('needs the sequence')`,
  readOnlyEscapes: ['set default_transaction_read_only = off', 'set session characteristics as transaction read write', 'begin read write'],
  endAttempt: 'rollback',
  writes: {
    INSERT: `insert into items (note) values ('refused')`,
    UPDATE: `update items set note = 'refused' where id = 1`,
    DELETE: `delete from item_log where item_id = 1`,
    TRUNCATE: 'truncate item_log',
  },
  createWidgets: 'create table widgets (id int primary key, label text not null);',
  insertWidget: `insert into widgets values (1, 'first');`,
  changeItems: `alter table items add column tagline text;\nupdate items set tagline = 'new';\ndelete from item_log where id % 2 = 0;`,
  failingMigration: (table) => ({
    sql: `create table ${table} (id int);\ninsert into ${table} values (1);\nselect * from no_such_table;`,
    error: /relation "no_such_table" does not exist \(SQLSTATE 42P01\) at line 3/,
  }),
  tableExists: (table) => `select to_regclass(${pg.escapeLiteral(`public.${table}`)}) is not null as found`,
  history: 'select name, checksum from public.cutover_migrations order by name',
};

/** In every handle's URL (the cluster checks passwords on TCP); it must never leak. */
const PASSWORD = 'Sup3r-s3cret p@ss:w/rd%"';

export interface PostgresContextOptions {
  /** superuser: a superuser role of its own; application: a CREATEDB role that owns its databases. */
  role: 'superuser' | 'application';
}

const suffixes: Record<string, DatabaseKind> = {
  '': 'original',
  __cutover_tmp: 'temporary',
  __cutover_tmp_partial: 'work-in-progress',
  __cutover_rp: 'restore-point',
  __cutover_rp_partial: 'work-in-progress',
};

/** A context on the test run's throwaway cluster; every database it creates has a unique name. */
export async function makePostgresContext(options: PostgresContextOptions): Promise<EngineContractContext> {
  const adminUrl = inject('pgAdminUrl');
  const port = inject('pgPort');
  const engine = createPostgresEngine({ binDir: inject('pgBinDir') });
  const admin = new pg.Client(adminUrl);
  await admin.connect();

  const user = `${options.role === 'superuser' ? 'su' : 'app'}_${randomBytes(4).toString('hex')}`;
  const rights = options.role === 'superuser' ? 'superuser' : 'createdb';
  await admin.query(`create role ${pg.escapeIdentifier(user)} login ${rights} password ${pg.escapeLiteral(PASSWORD)}`);
  // Copies follow their originals when the login is a superuser and the server writes logical WAL (the run's cluster does).
  const walLevel = (await admin.query<{ wal_level: string }>('show wal_level')).rows[0]?.wal_level;
  const canFollow = options.role === 'superuser' && walLevel === 'logical';
  const urlFor = (database: string, onPort = port) =>
    `postgres://${encodeURIComponent(user)}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${onPort}/` +
    `${encodeURIComponent(database)}?application_name=cutover-test`;
  const handleFor = (database: string, onPort?: number): DatabaseHandle => ({
    config: { name: 'shop', engine: 'postgres', connectionEnv: 'SHOP_DATABASE_URL' },
    connectionString: urlFor(database, onPort),
  });
  const originalOf = (db: DatabaseHandle) => decodeURIComponent(new URL(db.connectionString).pathname.slice(1));
  const physicalOf = (db: DatabaseHandle) => Object.keys(suffixes).map((suffix) => originalOf(db) + suffix);

  const connect = async (db: DatabaseHandle, role: DatabaseRole): Promise<Session> => {
    const client = new pg.Client(engine.connectionStringFor(db, role));
    client.on('error', () => undefined);
    await client.connect();
    return {
      query: async (sql) => {
        const result = await client.query(sql);
        // A multi-statement string yields one result per statement: the last one is the answer.
        const last = Array.isArray(result) ? (result as pg.QueryResult[]).at(-1) : result;
        return (last?.rows ?? []) as Record<string, unknown>[];
      },
      close: () => client.end(),
    };
  };

  return {
    engine,
    dialect: postgresDialect,
    password: PASSWORD,
    canFollow,
    async createDatabase({ hostileName = false } = {}) {
      const unique = `t_${randomBytes(5).toString('hex')}`;
      const name = hostileName ? `${unique} "Quo'ted" \\ Ünï` : unique;
      await admin.query(`create database ${pg.escapeIdentifier(name)} owner ${pg.escapeIdentifier(user)}`);
      return handleFor(name);
    },
    missingDatabase: () => handleFor(`t_missing_${randomBytes(5).toString('hex')}`),
    unreachableDatabase: async () => handleFor('t_unreachable', await freePort()),
    connect,
    async simulateInterruptedCopy(db) {
      const partial = `${originalOf(db)}__cutover_tmp_partial`;
      await admin.query(`create database ${pg.escapeIdentifier(partial)} owner ${pg.escapeIdentifier(user)}`);
      const client = new pg.Client(urlFor(partial));
      await client.connect();
      await client.query('create table half_restored (id int); insert into half_restored values (1)');
      await client.end();
    },
    async simulateInterruptedRestore(db) {
      await admin.query(`drop database ${pg.escapeIdentifier(originalOf(db))} with (force)`);
    },
    async databasesOf(db) {
      const result = await admin.query<{ datname: string }>('select datname from pg_database where datname = any($1::text[])', [
        physicalOf(db),
      ]);
      const original = originalOf(db);
      return result.rows.map((r) => suffixes[r.datname.slice(original.length)] as DatabaseKind).sort();
    },
    async dispose(db) {
      // A copy that still follows holds a replication slot on the original, which DROP DATABASE refuses to drop.
      await engine.dropTemporary(db).catch(() => undefined);
      for (const name of physicalOf(db)) await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
    },
    async close() {
      await admin.query(`drop role if exists ${pg.escapeIdentifier(user)}`);
      await admin.end();
    },
  };
}
