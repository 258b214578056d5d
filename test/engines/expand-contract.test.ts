/** Expand/contract migrations in the engine: one phase at a time, the phase in the history, undo scripts; and the plan. */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EngineError, type DatabaseHandle, type Migration } from '../../src/engines/engine.js';
import { planExpandContract } from '../../src/engines/migration-phases.js';
import { createSqlServerEngine } from '../../src/engines/sqlserver.js';
import type { EngineContractContext } from './contract.js';
import { makePostgresContext } from './postgres-context.js';

const noHeartbeat = () => undefined;

const base: Migration = { name: '0001_items.sql', sql: 'create table items (id int primary key, body text not null);' };
const addTitle: Migration = {
  name: '0002_add_title.sql',
  sql: 'alter table items add column title text;',
  phase: 'expand',
  undo: 'alter table items drop column title;',
};
const addIndex: Migration = { name: '0003_index.sql', sql: 'create index items_body on items (body);', phase: 'expand' };
const requireTitle: Migration = {
  name: '0004_require_title.sql',
  sql: "update items set title = '' where title is null;\nalter table items alter column title set not null;",
  phase: 'contract',
};

describe('planExpandContract: the pending migrations of each phase, refused when the mode cannot keep its promise', () => {
  test('pending expand and contract migrations, in name order, and which expand ones have no undo script', () => {
    expect(planExpandContract([base.name], [requireTitle, addIndex, addTitle, base])).toEqual({
      expand: [addTitle.name, addIndex.name],
      contract: [requireTitle.name],
      withoutUndo: [addIndex.name],
    });
    expect(
      planExpandContract([base.name, addTitle.name, addIndex.name, requireTitle.name], [base, addTitle, addIndex, requireTitle]),
    ).toEqual({ expand: [], contract: [], withoutUndo: [] });
  });

  test('a pending plain migration needs a clone: refused, naming it and the way out', () => {
    const error = (() => {
      try {
        planExpandContract([], [base, addTitle]);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ failureClass: 'invalid-input' });
    expect((error as Error).message).toMatch(/^migration 0001_items\.sql is neither expand nor contract .* needs a clone\. /);
    expect((error as Error).message).toContain(
      'needs a clone. Deploy in readonly, readwrite or maintenance-page mode, or move each to expand/',
    );
  });

  test('a pending contract migration that sorts before a pending expand one: refused, naming both', () => {
    const lateExpand: Migration = { name: '0005_more.sql', sql: 'select 1;', phase: 'expand' };
    expect(() =>
      planExpandContract([base.name, addTitle.name, addIndex.name], [base, addTitle, addIndex, requireTitle, lateExpand]),
    ).toThrow(/^contract migration 0004_require_title\.sql is not applied yet and sorts before expand migration 0005_more\.sql/);
  });
});

describe('the SQL Server engine', () => {
  test('cannot undo migrations (yet): the capability is absent, so the workflow says so instead of trying', () => {
    expect(createSqlServerEngine().undoMigrations).toBeUndefined();
  });
});

describe.each(['superuser', 'application'] as const)('PostgreSQL expand/contract migrations as %s', (role) => {
  let ctx: EngineContractContext;
  const created: DatabaseHandle[] = [];
  beforeAll(async () => {
    ctx = await makePostgresContext({ role });
  });
  afterAll(async () => {
    for (const db of created) await ctx.dispose(db);
    await ctx.close();
  });

  async function query(db: DatabaseHandle, sql: string) {
    const session = await ctx.connect(db, 'original');
    try {
      return await session.query(sql);
    } finally {
      await session.close();
    }
  }
  const history = (db: DatabaseHandle) => query(db, 'select name, phase from cutover_migrations order by name');
  const columns = async (db: DatabaseHandle) =>
    (await query(db, "select column_name from information_schema.columns where table_name = 'items' order by ordinal_position")).map(
      (r) => r.column_name,
    );

  test('one phase at a time, each migration recorded with its phase; the whole list applies in name order otherwise', async () => {
    const db = await ctx.createDatabase();
    created.push(db);
    const all = [base, addTitle, addIndex, requireTitle];
    await ctx.engine.applyMigrations(db, [base], noHeartbeat);
    expect(await ctx.engine.applyMigrations(db, all, noHeartbeat, { phase: 'expand' })).toEqual({
      applied: [addTitle.name, addIndex.name],
      alreadyApplied: [base.name],
    });
    expect(await history(db)).toEqual([
      { name: base.name, phase: null },
      { name: addTitle.name, phase: 'expand' },
      { name: addIndex.name, phase: 'expand' },
    ]);
    expect(await ctx.engine.applyMigrations(db, all, noHeartbeat, { phase: 'contract' })).toEqual({
      applied: [requireTitle.name],
      alreadyApplied: [base.name, addTitle.name, addIndex.name],
    });
    expect((await history(db)).at(-1)).toEqual({ name: requireTitle.name, phase: 'contract' });

    const other = await ctx.createDatabase();
    created.push(other);
    expect((await ctx.engine.applyMigrations(other, all, noHeartbeat)).applied).toEqual(all.map((m) => m.name));
    expect((await history(other)).map((r) => r.phase)).toEqual([null, 'expand', 'expand', 'contract']);
  });

  test('a history from before phases gets the phase column, its rows plain', async () => {
    const db = await ctx.createDatabase();
    created.push(db);
    const checksum = createHash('sha256').update(base.sql, 'utf8').digest('hex');
    await query(
      db,
      `${base.sql}\ncreate table cutover_migrations ` +
        '(name text primary key, checksum text not null, applied_at timestamptz not null default now());\n' +
        `insert into cutover_migrations (name, checksum) values ('${base.name}', '${checksum}');`,
    );
    await ctx.engine.applyMigrations(db, [base, addTitle], noHeartbeat, { phase: 'expand' });
    expect(await history(db)).toEqual([
      { name: base.name, phase: null },
      { name: addTitle.name, phase: 'expand' },
    ]);
  });

  test('undo reverts applied expand migrations newest first, with their history rows; again it is a no-op', async () => {
    const db = await ctx.createDatabase();
    created.push(db);
    const renameBody: Migration = {
      name: '0003_rename_body.sql',
      sql: 'alter table items rename column body to text;',
      phase: 'expand',
      undo: 'alter table items rename column text to body;',
    };
    await ctx.engine.applyMigrations(db, [base, addTitle, renameBody], noHeartbeat);
    expect(await columns(db)).toEqual(['id', 'text', 'title']);
    expect(await ctx.engine.undoMigrations!(db, [addTitle, renameBody], noHeartbeat)).toEqual({ undone: [renameBody.name, addTitle.name] });
    expect(await columns(db)).toEqual(['id', 'body']);
    expect(await history(db)).toEqual([{ name: base.name, phase: null }]);
    expect(await ctx.engine.undoMigrations!(db, [addTitle, renameBody], noHeartbeat)).toEqual({ undone: [] });
  });

  test('an undo script that fails is named with the database error, and leaves the migration applied and recorded', async () => {
    const db = await ctx.createDatabase();
    created.push(db);
    const broken: Migration = { ...addTitle, undo: 'alter table items drop column no_such_column;' };
    await ctx.engine.applyMigrations(db, [base, broken], noHeartbeat);
    await expect(ctx.engine.undoMigrations!(db, [broken], noHeartbeat)).rejects.toMatchObject({
      failureClass: 'migration-failed',
      message: expect.stringMatching(
        /^undo of migration 0002_add_title\.sql failed: column "no_such_column" of relation "items" does not exist/,
      ),
    });
    expect(await columns(db)).toEqual(['id', 'body', 'title']);
    expect((await history(db)).map((r) => r.name)).toEqual([base.name, addTitle.name]);
    await expect(ctx.engine.undoMigrations!(db, [addIndex], noHeartbeat)).rejects.toThrow(/migration 0003_index\.sql has no undo script/);
  });
});
