import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { splitBatches } from '../../src/engines/sqlserver/batches.js';
import { engineMigrationsFolder } from '../../src/packages/engine-migrations.js';
import { PackageError } from '../../src/packages/errors.js';
import { createPackageStore } from '../../src/packages/store.js';
import { tempFolders, validManifest, writeTree } from './support/files.js';

const folders = tempFolders();
afterAll(() => folders.removeAll());

async function packageWith(files: Record<string, string>, manifest: Record<string, unknown> = validManifest) {
  const root = await folders.make();
  return writeTree(root, { 'cutover-package.json': JSON.stringify(manifest), 'server.cjs': '', ...files });
}

describe('per-engine migrations: migrations.<engine>/ beside migrations/', () => {
  test('the folder is named after the shared one and the engine, normalised', () => {
    expect(engineMigrationsFolder('migrations', 'sqlserver')).toBe('migrations.sqlserver');
    expect(engineMigrationsFolder('./db/migrations/', 'postgres')).toBe('db/migrations.postgres');
  });

  test('a SQL Server database gets migrations.sqlserver/, every other database (and the default call) migrations/', async () => {
    const store = createPackageStore(await folders.make('cutover-store-'));
    const pkg = await store.importPackage(
      await packageWith({
        'migrations/0001_notes.sql': 'create table notes (id serial primary key);',
        'migrations.sqlserver/0001_notes.sql': 'CREATE TABLE notes (id int IDENTITY PRIMARY KEY);',
      }),
    );
    expect(await store.readMigrations(pkg)).toEqual([{ name: '0001_notes.sql', sql: 'create table notes (id serial primary key);' }]);
    expect(await store.readMigrations(pkg, 'postgres')).toEqual([
      { name: '0001_notes.sql', sql: 'create table notes (id serial primary key);' },
    ]);
    expect(await store.readMigrations(pkg, 'sqlserver')).toEqual([
      { name: '0001_notes.sql', sql: 'CREATE TABLE notes (id int IDENTITY PRIMARY KEY);' },
    ]);
  });

  test('without an engine folder every engine shares migrations/, and a folder named by the manifest works the same way', async () => {
    const store = createPackageStore(await folders.make('cutover-store-'));
    const shared = await store.importPackage(await packageWith({ 'migrations/0001_x.sql': 'SELECT 1;' }));
    expect(await store.readMigrations(shared, 'sqlserver')).toEqual([{ name: '0001_x.sql', sql: 'SELECT 1;' }]);
    const named = await store.importPackage(
      await packageWith(
        { 'db/all/0001_x.sql': 'select 1;', 'db/all.sqlserver/0001_x.sql': 'SELECT 2;' },
        { ...validManifest, migrations: 'db/all' },
      ),
    );
    expect(await store.readMigrations(named, 'sqlserver')).toEqual([{ name: '0001_x.sql', sql: 'SELECT 2;' }]);
  });

  test('an engine folder is checked like the shared one: a misnamed file is refused at import', async () => {
    const store = createPackageStore(await folders.make('cutover-store-'));
    const error = await store
      .importPackage(await packageWith({ 'migrations/0001_x.sql': 'SELECT 1;', 'migrations.sqlserver/0001 x.txt': 'SELECT 1;' }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PackageError);
    expect((error as PackageError).message).toMatch(/migration "migrations\.sqlserver\/0001 x\.txt": file name must match/);
  });
});

describe('the demo app speaks SQL Server too', () => {
  const demo = join(import.meta.dirname, '../../examples/demo-app');

  test('each version has the same migrations for SQL Server as for PostgreSQL, by name; 0001 is the same bytes in both', async () => {
    for (const version of ['v1', 'v2']) {
      expect(await readdir(join(demo, version, 'migrations.sqlserver'))).toEqual(await readdir(join(demo, version, 'migrations')));
    }
    const first = (v: string) => readFile(join(demo, v, 'migrations.sqlserver/0001_create_notes.sql'));
    expect((await first('v1')).equals(await first('v2'))).toBe(true);
    expect(await readFile(join(demo, 'v1/database.cjs'), 'utf8')).toBe(await readFile(join(demo, 'v2/database.cjs'), 'utf8'));
  });

  test('the SQL Server migrations are single batches the engine sends as written', async () => {
    for (const file of ['v2/migrations.sqlserver/0001_create_notes.sql', 'v2/migrations.sqlserver/0002_add_author.sql']) {
      const batches = splitBatches(await readFile(join(demo, file), 'utf8'));
      expect(batches, file).toHaveLength(1);
    }
  });
});
