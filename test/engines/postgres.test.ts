import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { EngineError, type DatabaseHandle } from '../../src/engines/engine.js';
import { engineFor, resolveDatabaseHandle } from '../../src/engines/index.js';
import { isReadOnlyViolation } from './read-only-violation.js';
import { createPostgresEngine } from '../../src/engines/postgres.js';
import { copyCommands } from '../../src/engines/postgres/dump-restore.js';
import { engineFailure } from '../../src/engines/postgres/errors.js';
import type { EngineContractContext, Session } from './contract.js';
import { makePostgresContext } from './postgres-context.js';

const shop = { name: 'shop', engine: 'postgres' as const, connectionEnv: 'SHOP_DATABASE_URL' };
const handle = (connectionString: string): DatabaseHandle => ({ config: shop, connectionString });
const engine = createPostgresEngine({ binDir: '/nonexistent' });
const noHeartbeat = () => undefined;

async function failureOf(work: () => unknown): Promise<Error> {
  try {
    await work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('connection strings and names', () => {
  test('a slot gets the same server, credentials and options, with only the database swapped', () => {
    const db = handle('postgres://app:s%40cret@db.internal:6543/shop?sslmode=require&application_name=web');
    expect(engine.connectionStringFor(db, 'original')).toBe(
      'postgres://app:s%40cret@db.internal:6543/shop?sslmode=require&application_name=web',
    );
    expect(engine.connectionStringFor(db, 'temporary')).toBe(
      'postgres://app:s%40cret@db.internal:6543/shop__cutover_tmp?sslmode=require&application_name=web',
    );
    const odd = handle(`postgresql://app@127.0.0.1/${encodeURIComponent('Shop "Ü"')}`);
    expect(new URL(engine.connectionStringFor(odd, 'temporary')).pathname).toBe(`/${encodeURIComponent('Shop "Ü"__cutover_tmp')}`);
  });

  test('names that would not fit, or that are not the application database, are refused as invalid input', async () => {
    const fits = 'a'.repeat(42); // + "__cutover_tmp_partial" = 63 bytes
    expect(() => engine.connectionStringFor(handle(`postgres://h/${fits}`), 'temporary')).not.toThrow();
    const cases: Array<[string, RegExp]> = [
      ['a'.repeat(43), /43 bytes long; Cutover needs at most 42/],
      [encodeURIComponent('é'.repeat(22)), /44 bytes long/],
      ['postgres', /system database "postgres"/],
      ['template1', /system database/],
      ['', /names no database/],
      ['a%3Bb', /character/],
    ];
    for (const [path, message] of cases) {
      const error = await failureOf(() => engine.connectionStringFor(handle(`postgres://u:pw@h/${path}`), 'temporary'));
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ failureClass: 'invalid-input' });
      expect(error.message).toMatch(message);
      // Operations refuse the same way, before touching any server.
      expect(await failureOf(() => engine.inspect(handle(`postgres://u:pw@h/${path}`)))).toMatchObject({ failureClass: 'invalid-input' });
    }
  });

  test('resolveDatabaseHandle names the variable, never its value', () => {
    const secret = 'postgres://app:hunter2@db/shop';
    expect(resolveDatabaseHandle(shop, { SHOP_DATABASE_URL: secret })).toEqual({ config: shop, connectionString: secret });
    const unset = (() => {
      try {
        resolveDatabaseHandle(shop, {});
      } catch (error) {
        return error as EngineError;
      }
    })();
    expect(unset).toMatchObject({ failureClass: 'invalid-input' });
    expect(unset?.message).toMatch(/SHOP_DATABASE_URL.*is not set/);
    for (const bad of ['app:hunter2@db/shop', 'not a url hunter2', 'mysql://app:hunter2@db/shop']) {
      let error: Error | undefined;
      try {
        resolveDatabaseHandle(shop, { SHOP_DATABASE_URL: bad });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(/SHOP_DATABASE_URL/);
      expect(error?.message).not.toContain('hunter2');
    }
  });

  test('engineFor gives the PostgreSQL engine for postgres databases, and the SQL Server one for sqlserver', () => {
    expect(engineFor(shop, { postgres: { binDir: '/usr/lib/postgresql/15/bin' } }).name).toBe('postgres');
    expect(engineFor({ ...shop, engine: 'sqlserver' }, { postgres: { binDir: '/x' } }).name).toBe('sqlserver');
  });

  test('pg_dump and pg_restore get the password in their environment, never on their command line', () => {
    const db = handle('postgres://app:s%40cret@db.internal:6543/shop?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=web');
    const { dump, restore } = copyCommands(db, { binDir: '/pg/bin', from: 'shop', to: "shop__cutover_tmp_partial'x", keepOwners: false });
    for (const tool of [dump, restore]) {
      expect(tool.args.join(' ')).not.toContain('s@cret');
      expect(tool.args.join(' ')).not.toContain('s%40cret');
      expect(tool.env).toMatchObject({
        PGHOST: 'db.internal',
        PGPORT: '6543',
        PGUSER: 'app',
        PGPASSWORD: 's@cret',
        PGSSLMODE: 'verify-full',
        PGSSLROOTCERT: '/etc/ca.pem',
      });
    }
    expect(dump.command).toBe('/pg/bin/pg_dump');
    expect(dump.args).toContain("--dbname=dbname='shop'");
    expect(restore.args).toContain("--dbname=dbname='shop__cutover_tmp_partial\\'x'");
    expect(restore.args).toContain('--no-owner');
  });
});

describe('error classes', () => {
  test('unreachable, starting, overloaded servers are transient; SQL errors are not', () => {
    const pgError = (code: string) => Object.assign(new Error('boom'), { code });
    for (const transient of [
      pgError('57P03'),
      pgError('53300'),
      pgError('ECONNREFUSED'),
      new Error('Connection terminated due to connection timeout'),
    ]) {
      expect(engineFailure(transient, 'doing', [])).toMatchObject({ failureClass: 'transient' });
    }
    const plain = engineFailure(pgError('42P01'), 'doing', []);
    expect(plain).not.toBeInstanceOf(EngineError);
    expect(plain.message).toBe('doing: boom (SQLSTATE 42P01)');
    expect(engineFailure(new Error('cannot use postgres://u:pw@h/db'), 'doing', ['postgres://u:pw@h/db', 'pw']).message).toBe(
      'doing: cannot use ***',
    );
  });

  test('isReadOnlyViolation recognises SQLSTATE 25006, however wrapped', () => {
    const refused = Object.assign(new Error('cannot execute INSERT'), { code: '25006' });
    expect(isReadOnlyViolation(refused)).toBe(true);
    expect(isReadOnlyViolation(new Error('activity failed', { cause: refused }))).toBe(true);
    expect(isReadOnlyViolation(new EngineError('readonly-not-supported', 'x', '25006'))).toBe(true);
    expect(isReadOnlyViolation(Object.assign(new Error('x'), { code: '23505' }))).toBe(false);
    expect(isReadOnlyViolation('25006')).toBe(false);
  });
});

describe.each(['superuser', 'application'] as const)('postgres specifics as %s', (role) => {
  let ctx: EngineContractContext;
  const created: DatabaseHandle[] = [];
  beforeAll(async () => {
    ctx = await makePostgresContext({ role });
  });
  afterAll(async () => {
    for (const db of created) await ctx.dispose(db);
    await ctx.close();
  });

  async function database(sql: string): Promise<DatabaseHandle> {
    const db = await ctx.createDatabase();
    created.push(db);
    await run(db, 'original', sql);
    return db;
  }
  async function run(db: DatabaseHandle, on: 'original' | 'temporary', sql: string) {
    const session = await ctx.connect(db, on);
    try {
      return await session.query(sql);
    } finally {
      await session.close();
    }
  }
  async function refused(session: Session, sql: string): Promise<Error> {
    const error = await failureOf(() => session.query(sql));
    expect(isReadOnlyViolation(error), `${sql}: ${error.message}`).toBe(true);
    return error;
  }

  const oddSchema = `
    create schema "Odd ""Schema""";
    create table "Odd ""Schema""".";drop table x;--" (id int primary key, v text);
    insert into "Odd ""Schema""".";drop table x;--" values (1, 'a');
    create table measurements (at date not null, v int) partition by range (at);
    create table measurements_2024 partition of measurements for values from ('2024-01-01') to ('2025-01-01');
    insert into measurements values ('2024-05-01', 1);
    create sequence invoice_numbers start 1000;
    select setval('invoice_numbers', 5000);
    create function double_it(i int) returns int language sql as 'select i * 2';`;

  test('the copy keeps sequences at their value, functions, and every schema; all of its tables refuse writes', async () => {
    const db = await database(oddSchema);
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    await ctx.engine.makeTemporaryReadOnly(db);
    const [row] = await run(
      db,
      'temporary',
      `select last_value, double_it(21) as doubled, (select count(*) from "Odd ""Schema""".";drop table x;--") as odd from invoice_numbers`,
    );
    expect(row).toEqual({ last_value: '5000', doubled: 42, odd: '1' });
    const session = await ctx.connect(db, 'temporary');
    try {
      await session.query('set default_transaction_read_only = off');
      const error = await refused(session, `update "Odd ""Schema""".";drop table x;--" set v = 'b'`);
      expect(error.message).toBe('cannot execute UPDATE on "Odd "Schema".;drop table x;--": the site is read-only during a deployment');
      await refused(session, `insert into measurements values ('2024-06-01', 2)`);
      await refused(session, `insert into measurements_2024 values ('2024-06-01', 2)`);
      await refused(session, 'truncate measurements');
    } finally {
      await session.close();
    }
  });

  const ddlOnCopy =
    role === 'superuser' ? 'refused by an event trigger' : 'left to the database default (no event trigger without superuser)';
  test(`DDL on the read-only copy is ${ddlOnCopy}`, async () => {
    const db = await database('create table notes (id int primary key, body text); insert into notes values (1, $$hello$$);');
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    await ctx.engine.makeTemporaryReadOnly(db);
    const session = await ctx.connect(db, 'temporary');
    try {
      // Without leaving read-only mode, the database default refuses DDL for every role.
      await refused(session, 'create table sessions (id int)');
      await session.query('set default_transaction_read_only = off');
      if (role === 'superuser') {
        for (const ddl of [
          'create table sessions (id int)',
          'drop trigger cutover_read_only on notes',
          'alter table notes disable trigger all',
          'alter table notes add column x int',
        ]) {
          const error = await refused(session, ddl);
          expect(error.message).toMatch(/^cannot execute [A-Z ]+: the site is read-only during a deployment$/);
        }
        // Even a superuser's replication mode does not skip the triggers.
        await session.query('set session_replication_role = replica');
        await refused(session, 'delete from notes');
        expect((await ctx.engine.inspect(db)).temporary.readOnly).toBe(true);
      } else {
        // A session that turns read-only off may create a table: existing data stays protected, and inspect says the truth.
        await refused(session, 'delete from notes');
        expect((await ctx.engine.inspect(db)).temporary.readOnly).toBe(true);
        await session.query('create table sessions (id int)');
        expect((await ctx.engine.inspect(db)).temporary.readOnly).toBe(false);
      }
    } finally {
      await session.close();
    }
  });

  test('inspect stops calling the copy read-only as soon as one table lost its guard', async () => {
    const db = await database('create table a (id int); create table b (id int);');
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    await ctx.engine.makeTemporaryReadOnly(db);
    expect((await ctx.engine.inspect(db)).temporary.readOnly).toBe(true);
    const dropEventTrigger = role === 'superuser' ? 'drop event trigger cutover_read_only_ddl;' : '';
    await run(db, 'temporary', `begin read write; ${dropEventTrigger} drop trigger cutover_read_only on b; commit;`);
    expect((await ctx.engine.inspect(db)).temporary.readOnly).toBe(false);
    await ctx.engine.makeTemporaryReadOnly(db); // repairs it
    expect((await ctx.engine.inspect(db)).temporary.readOnly).toBe(true);
  });

  test('a migration that ends its own transaction is refused and not recorded as applied', async () => {
    const db = await database('create table items (id int);');
    for (const sql of ['create table a (id int);\ncommit;', 'create table b (id int);\ncommit;\nbegin;\ninsert into items values (1);']) {
      const error = await failureOf(() => ctx.engine.applyMigrations(db, [{ name: '0001_commits.sql', sql }], noHeartbeat));
      expect(error).toMatchObject({ failureClass: 'migration-failed' });
      expect(error.message).toMatch(/migration 0001_commits\.sql ended the transaction Cutover runs it in/);
    }
    expect((await ctx.engine.inspect(db)).appliedMigrations).toEqual([]);
  });

  test.skipIf(role !== 'application')(
    'a failing pg_dump is reported with its own words, without the password, and leaves no work in progress',
    async () => {
      const db = await database('create table mine (id int);');
      // A table the application role may not read: pg_dump must fail on it.
      const adminUrl = new URL(inject('pgAdminUrl'));
      adminUrl.pathname = new URL(db.connectionString).pathname;
      const admin = new pg.Client(adminUrl.toString());
      await admin.connect();
      await admin.query('create table secret_stuff (id int); revoke all on secret_stuff from public');
      await admin.end();
      const error = await failureOf(() => ctx.engine.copyToTemporary(db, noHeartbeat));
      expect(error.message).toMatch(/pg_dump exited with code 1: .*permission denied for table secret_stuff/s);
      expect(error.message).not.toContain(ctx.password);
      expect(await ctx.databasesOf(db)).toEqual(['original']);
    },
  );
});
