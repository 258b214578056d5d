/** Packages that split their migrations into expand/ and contract/: read with their phase, checked with errors naming the file. */
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { PackageError } from '../../src/packages/errors.js';
import { createPackageStore } from '../../src/packages/store.js';
import { tempFolders, writeSamplePackage } from './support/files.js';

const folders = tempFolders();
afterAll(() => folders.removeAll());

const newStore = async () => createPackageStore(await folders.make('cutover-store-'));

async function refusal(files: Record<string, string>): Promise<string> {
  const error = await (await newStore()).importPackage(await writeSamplePackage(folders, files)).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PackageError);
  expect((error as PackageError).code).toBe('invalid-migrations');
  return (error as PackageError).message;
}

describe('expand/ and contract/ in the migrations folder', () => {
  test('migrations are read in name order whatever their folder, with their phase; an expand migration with its undo script', async () => {
    const store = await newStore();
    const pkg = await store.importPackage(
      await writeSamplePackage(folders, {
        'migrations/expand/0003_add_status.sql': 'ALTER TABLE orders ADD COLUMN status text;\n',
        'migrations/expand/0003_add_status.undo.sql': 'ALTER TABLE orders DROP COLUMN status;\n',
        'migrations/expand/0005_index.sql': 'CREATE INDEX ON orders (status);\n',
        'migrations/contract/0004_drop_total.sql': 'ALTER TABLE orders DROP COLUMN total;\n',
      }),
    );
    expect(await store.readMigrations(pkg)).toEqual([
      { name: '0001_create_orders.sql', sql: 'CREATE TABLE orders (id serial PRIMARY KEY);\n' },
      { name: '0002_add_total.sql', sql: 'ALTER TABLE orders ADD COLUMN total numeric NOT NULL DEFAULT 0;\n' },
      {
        name: '0003_add_status.sql',
        sql: 'ALTER TABLE orders ADD COLUMN status text;\n',
        phase: 'expand',
        undo: 'ALTER TABLE orders DROP COLUMN status;\n',
      },
      { name: '0004_drop_total.sql', sql: 'ALTER TABLE orders DROP COLUMN total;\n', phase: 'contract' },
      { name: '0005_index.sql', sql: 'CREATE INDEX ON orders (status);\n', phase: 'expand' },
    ]);
  });

  test('the demo app v3 and the faulty package that breaks v3 are valid packages', async () => {
    const store = await newStore();
    const examples = join(import.meta.dirname, '../../examples');
    const v3 = await store.readMigrations(await store.importPackage(join(examples, 'demo-app/v3')));
    expect(v3.map((m) => [m.name, m.phase ?? 'plain', m.undo !== undefined])).toEqual([
      ['0001_create_notes.sql', 'plain', false],
      ['0002_add_author.sql', 'plain', false],
      ['0003_add_title.sql', 'expand', true],
      ['0004_author_required.sql', 'contract', false],
    ]);
    const sqlserver = await store.readMigrations(await store.importPackage(join(examples, 'demo-app/v3')), 'sqlserver');
    expect(sqlserver.map((m) => [m.name, m.phase ?? 'plain'])).toEqual(v3.map((m) => [m.name, m.phase ?? 'plain']));
    const breaking = await store.readMigrations(await store.importPackage(join(examples, 'faulty/expand-breaks-old-version')));
    // Same names mean the same SQL: v3's migrations, plus the expand migration that breaks v3.
    expect(breaking.slice(0, 4)).toEqual(v3);
    expect(breaking.slice(4).map((m) => [m.name, m.phase])).toEqual([['0005_rename_body_to_text.sql', 'expand']]);
  });

  test('a name in two places is refused, naming both: a name is the key in the history', async () => {
    expect(await refusal({ 'migrations/expand/0002_add_total.sql': 'SELECT 1;' })).toMatch(
      /^migration "migrations\/expand\/0002_add_total\.sql": migrations\/0002_add_total\.sql has the same name/,
    );
    expect(await refusal({ 'migrations/expand/0009_x.sql': 'SELECT 1;', 'migrations/contract/0009_x.sql': 'SELECT 1;' })).toMatch(
      /^migration "migrations\/contract\/0009_x\.sql": migrations\/expand\/0009_x\.sql has the same name/,
    );
  });

  test('an undo script must undo an expand migration of the expand folder; contract migrations have none', async () => {
    expect(await refusal({ 'migrations/expand/0009_x.undo.sql': 'SELECT 1;' })).toBe(
      'migration "migrations/expand/0009_x.undo.sql": undoes 0009_x.sql, which is not in the expand folder',
    );
    expect(await refusal({ 'migrations/contract/0009_x.sql': 'SELECT 1;', 'migrations/contract/0009_x.undo.sql': 'SELECT 1;' })).toMatch(
      /^migration "migrations\/contract\/0009_x\.undo\.sql": undo scripts belong in the expand folder only/,
    );
  });

  test('inside expand/ and contract/ the same rules as in the migrations folder; other folders are refused', async () => {
    expect(await refusal({ 'migrations/expand/0009 x.sql': 'SELECT 1;' })).toMatch(
      /^migration "migrations\/expand\/0009 x\.sql": file name must match/,
    );
    expect(await refusal({ 'migrations/contract/deeper/0009_x.sql': 'SELECT 1;' })).toBe(
      'migration "migrations/contract/deeper": only .sql files belong in the contract folder, not folders',
    );
    expect(await refusal({ 'migrations/later/0009_x.sql': 'SELECT 1;' })).toBe(
      'migration "migrations/later": only .sql files belong in the migrations folder, and the folders expand/ and contract/',
    );
    expect(await refusal({ 'migrations.sqlserver/expand/0009_x.undo.sql': 'SELECT 1;' })).toBe(
      'migration "migrations.sqlserver/expand/0009_x.undo.sql": undoes 0009_x.sql, which is not in the expand folder',
    );
  });
});
