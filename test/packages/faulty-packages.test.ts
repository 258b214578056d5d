import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, test } from 'vitest';
import { createPackageStore } from '../../src/packages/store.js';
import { startApp, stopAllApps, waitForHttp } from './support/app-process.js';
import { createDatabase, type TestDatabase } from './support/database.js';
import { tempFolders } from './support/files.js';

const examples = join(import.meta.dirname, '../../examples');
const faulty = (name: string) => join(examples, 'faulty', name);
const folders = tempFolders();
const databases: TestDatabase[] = [];

afterAll(async () => {
  await stopAllApps();
  await Promise.all(databases.map((db) => db.drop()));
  await folders.removeAll();
});

/** A database at the demo app's v2 schema, as the original is after the faulty package's migrations. */
async function v2Database(prefix: string): Promise<TestDatabase> {
  const db = await createDatabase(inject('pgAdminUrl'), prefix);
  databases.push(db);
  const store = createPackageStore(await folders.make());
  const v2 = await store.importPackage(join(examples, 'demo-app/v2'));
  for (const migration of await store.readMigrations(v2)) await db.run(migration.sql);
  return db;
}

describe('every faulty package is a valid demo-app package that agrees with v2 on migrations', () => {
  test.each(['writes-at-startup', 'warmup-500', 'warmup-403', 'exits-at-startup', 'bad-migration'])('%s', async (name) => {
    const store = createPackageStore(await folders.make());
    const pkg = await store.importPackage(faulty(name));
    expect(pkg.ref).toMatchObject({ name: 'demo-app', version: `2.0.1-${name}`, warmupPath: '/healthz' });
    const v2 = await store.readMigrations(await store.importPackage(join(examples, 'demo-app/v2')));
    const own = await store.readMigrations(pkg);
    // Same names must mean same SQL: an applied migration that changed is an error for the engine.
    expect(own.slice(0, 2)).toEqual(v2);
  });
});

test('warmup-500: runs, but its warmup path answers 500', async () => {
  const app = await startApp(faulty('warmup-500'), { DATABASE_URL: 'postgres://unused', CUTOVER_SLOT: 'preview' });
  const health = await waitForHttp(app);
  expect(health.status).toBe(500);
  expect(health.headers.get('x-app-version')).toBe('2.0.1-warmup-500');
  expect(health.headers.get('x-slot')).toBe('preview');
  expect(await app.stop()).toBe(0);
});

test('warmup-403: its warmup path answers 403', async () => {
  const app = await startApp(faulty('warmup-403'), { DATABASE_URL: 'postgres://unused', CUTOVER_SLOT: 'preview' });
  expect((await waitForHttp(app)).status).toBe(403);
  expect(await app.stop()).toBe(0);
});

test('exits-at-startup: exits with code 3 after a stack trace', async () => {
  const app = await startApp(faulty('exits-at-startup'), { DATABASE_URL: 'postgres://unused', CUTOVER_SLOT: 'preview' });
  expect(await app.exited).toBe(3);
  expect(app.output()).toMatch(/Error: Missing required setting NOTES_SIGNING_KEY/);
  expect(app.output()).toMatch(/\n\s+at loadSettings \(.*server\.cjs:\d+:\d+\)/);
});

test('writes-at-startup: serves on a writable database, exits non-zero on a read-only one', async () => {
  const db = await v2Database('faulty_writes');
  const writable = await startApp(faulty('writes-at-startup'), { DATABASE_URL: db.url, CUTOVER_SLOT: 'live' });
  expect((await waitForHttp(writable)).status).toBe(200);
  expect((await db.run('SELECT author FROM notes')).rows).toEqual([{ author: 'demo-app 2.0.1-writes-at-startup' }]);
  expect(await writable.stop()).toBe(0);

  await db.makeReadOnly();
  const clone = await startApp(faulty('writes-at-startup'), { DATABASE_URL: db.url, CUTOVER_SLOT: 'clone', CUTOVER_READONLY: '1' });
  expect(await clone.exited).toBe(1);
  expect(clone.output()).toMatch(/read-only transaction.*SQLSTATE 25006/);
});

test('bad-migration: its third migration fails with a SQL error', async () => {
  const db = await v2Database('faulty_migration');
  const sql = await readFile(join(faulty('bad-migration'), 'migrations/0003_add_tags.sql'), 'utf8');
  await expect(db.run(sql)).rejects.toMatchObject({ code: '42601' });
});
