/**
 * The three logins of an environment's PostgreSQL database, on the test run's real cluster (password auth): each has
 * the rights of its job and no more, and the temporary copy, the restore point and a restored original keep them so.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { dropDatabasesLike, provideDatabase, type DatabaseLoginUrls } from '../../src/devtools/postgres-cluster.js';
import type { DatabaseHandle } from '../../src/engines/engine.js';
import { resolveDatabaseHandle } from '../../src/engines/index.js';
import { createPostgresEngine } from '../../src/engines/postgres.js';

const id = randomBytes(3).toString('hex');
const engine = createPostgresEngine({ binDir: inject('pgBinDir') });
const noHeartbeat = () => undefined;

interface Environment {
  database: string;
  roles: { migration: string; app: string };
  logins: DatabaseLoginUrls;
  handle: DatabaseHandle;
}

const config: DatabaseConfig = {
  name: 'shop',
  engine: 'postgres',
  connectionEnv: 'SHOP_URL',
  migrationConnectionEnv: 'SHOP_MIGRATION_URL',
  appConnectionEnv: 'SHOP_APP_URL',
};
const items = {
  name: '0001_items.sql',
  sql: "create table items (id serial primary key, note text not null);\ninsert into items (note) values ('seed');",
};
const tags = { name: '0002_tags.sql', sql: 'create table tags (id serial primary key, tag text);' };
let a: Environment;
let b: Environment;

async function environment(name: string): Promise<Environment> {
  const database = `logins_${id}_${name}`;
  const roles = { migration: `${database}_migrator`, app: `${database}_application` };
  const logins = await provideDatabase(inject('pgAdminUrl'), database, roles);
  const handle = resolveDatabaseHandle(config, { SHOP_URL: logins.admin, SHOP_MIGRATION_URL: logins.migration, SHOP_APP_URL: logins.app });
  return { database, roles, logins, handle };
}

/** Runs one statement as a login, on a database (the login's own by default); the error's SQLSTATE when it fails. */
type Outcome = { rows?: Record<string, unknown>[]; code?: string; message?: string };

async function as(url: string, sql: string, database?: string): Promise<Outcome> {
  const target = new URL(url);
  if (database) target.pathname = `/${database}`;
  const client = new pg.Client(target.toString());
  client.on('error', () => undefined);
  try {
    await client.connect();
    return { rows: (await client.query(sql)).rows };
  } catch (error) {
    return { code: (error as { code?: string }).code ?? 'none', message: (error as Error).message };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function exists(database: string): Promise<boolean> {
  return (await as(inject('pgAdminUrl'), `select 1 from pg_database where datname = '${database}'`)).rows?.length === 1;
}

beforeAll(async () => {
  a = await environment('a');
  b = await environment('b');
  await engine.applyMigrations(a.handle, [items], noHeartbeat);
});

afterAll(async () => {
  const admin = new pg.Client(inject('pgAdminUrl'));
  await admin.connect();
  for (const env of [a, b].filter(Boolean)) {
    // A copy that still follows its original holds a replication slot on it: dropped with it.
    await dropDatabasesLike(inject('pgAdminUrl'), env.database);
    for (const role of Object.values(env.roles)) await admin.query(`drop role if exists ${pg.escapeIdentifier(role)}`);
  }
  await admin.end();
});

describe('the application login (what slots get)', () => {
  test('is what connectionStringFor hands out, on the original and on the temporary copy', () => {
    for (const role of ['original', 'temporary'] as const) {
      expect(new URL(engine.connectionStringFor(a.handle, role)).username).toBe(a.roles.app);
    }
  });

  test('reads and writes its own tables', async () => {
    const insert = "insert into items (note) values ('by the app') returning note";
    expect(await as(a.logins.app, insert)).toEqual({ rows: [{ note: 'by the app' }] });
    const update = "update items set note = 'changed' where note = 'by the app' returning note";
    expect(await as(a.logins.app, update)).toEqual({ rows: [{ note: 'changed' }] });
    expect((await as(a.logins.app, 'select count(*)::int as n from items')).rows).toEqual([{ n: 2 }]);
  });

  test("cannot drop another environment's database, nor create one, nor change the schema, nor the migration history", async () => {
    const refused = (why: string) => ({ code: '42501', message: expect.stringContaining(why) });
    expect(await as(a.logins.app, `drop database ${b.database}`)).toMatchObject(refused('must be owner'));
    expect(await as(a.logins.app, `create database logins_${id}_stolen`)).toMatchObject(refused('permission denied to create database'));
    expect(await as(a.logins.app, 'create table mine (id int)')).toMatchObject({ code: '42501' });
    expect(await as(a.logins.app, 'drop table items')).toMatchObject({ code: '42501' });
    expect(await as(a.logins.app, 'delete from cutover_migrations')).toMatchObject({ code: '42501' });
    expect(await as(a.logins.app, 'select * from cutover_migrations')).toMatchObject({ code: '42501' });
    expect(await exists(b.database)).toBe(true);
  });

  test("cannot even connect to another environment's database", async () => {
    expect(await as(a.logins.app, 'select 1', b.database)).toMatchObject({
      code: '42501',
      message: expect.stringContaining('permission denied for database'),
    });
  });
});

describe('the migration login', () => {
  test("changes its own database's schema, and cannot drop a database (another's or its own) nor create one", async () => {
    expect(await as(a.logins.migration, `drop database ${b.database}`)).toMatchObject({ code: '42501' });
    expect(await as(a.logins.migration, `drop database ${a.database}`, 'postgres')).toMatchObject({ code: '42501' });
    expect(await as(a.logins.migration, `create database logins_${id}_stolen`)).toMatchObject({ code: '42501' });
    expect(await as(a.logins.migration, 'select 1', b.database)).toMatchObject({ code: '42501' });
    expect(await exists(b.database)).toBe(true);
    expect(await exists(a.database)).toBe(true);
  });

  test('is the login migrations run as: it owns what they create', async () => {
    const owners = await as(inject('pgAdminUrl'), "select tableowner from pg_tables where tablename = 'items'", a.database);
    expect(owners.rows).toEqual([{ tableowner: a.roles.migration }]);
  });

  test('a migration login that is configured but not set is refused by name, before anything runs', async () => {
    const withoutMigrationLogin = resolveDatabaseHandle(config, { SHOP_URL: a.logins.admin, SHOP_APP_URL: a.logins.app });
    await expect(engine.applyMigrations(withoutMigrationLogin, [], noHeartbeat)).rejects.toMatchObject({
      failureClass: 'invalid-input',
      message: expect.stringContaining('environment variable SHOP_MIGRATION_URL (migration login of database shop) is not set'),
    });
  });
});

describe("copies and restores keep each login's rights", () => {
  test('the read-only temporary copy lets the application login read, refuses its writes, and keeps other environments out', async () => {
    await engine.copyToTemporary(a.handle, noHeartbeat);
    await engine.makeTemporaryReadOnly(a.handle);
    const copy = `${a.database}__cutover_tmp`;
    expect((await as(a.logins.app, 'select count(*)::int as n from items', copy)).rows).toEqual([{ n: 2 }]);
    expect(await as(a.logins.app, "insert into items (note) values ('refused')", copy)).toMatchObject({ code: '25006' });
    expect(await as(b.logins.app, 'select 1', copy)).toMatchObject({ code: '42501' });
    expect(await as(a.logins.app, `drop database ${copy}`, 'postgres')).toMatchObject({ code: '42501' });
    await engine.dropTemporary(a.handle);
  });

  test('after a restore the application login still reads and writes, and other environments are still kept out', async () => {
    await engine.createRestorePoint(a.handle, noHeartbeat);
    expect(await as(b.logins.app, 'select 1', `${a.database}__cutover_rp`)).toMatchObject({ code: '42501' });
    await engine.applyMigrations(a.handle, [items, tags], noHeartbeat);
    expect(await as(a.logins.app, "insert into tags (tag) values ('new') returning tag")).toEqual({ rows: [{ tag: 'new' }] });
    await engine.restoreFromRestorePoint(a.handle, noHeartbeat);
    expect(await as(a.logins.app, 'select 1 from tags')).toMatchObject({ code: '42P01' });
    const insert = "insert into items (note) values ('after restore') returning note";
    expect(await as(a.logins.app, insert)).toEqual({ rows: [{ note: 'after restore' }] });
    expect(await as(b.logins.app, 'select 1', a.database)).toMatchObject({ code: '42501' });
    expect(await as(a.logins.app, 'delete from cutover_migrations')).toMatchObject({ code: '42501' });
    await engine.dropRestorePoint(a.handle);
  });
});

describe('resolving the logins', () => {
  test('a login that names another database or server is refused, naming both variables and no value', () => {
    const elsewhere = new URL(a.logins.app);
    elsewhere.pathname = `/${b.database}`;
    let error: Error | undefined;
    try {
      resolveDatabaseHandle(config, { SHOP_URL: a.logins.admin, SHOP_APP_URL: elsewhere.toString() });
    } catch (caught) {
      error = caught as Error;
    }
    expect(error?.message).toBe(
      'environment variable SHOP_APP_URL (application login of database shop) must name the same server and database as SHOP_URL',
    );
    expect(error?.message).not.toContain(new URL(a.logins.app).password);
  });
});
