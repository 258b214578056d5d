import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test, type TestContext } from 'vitest';
import {
  EngineError,
  type CopyResult,
  type DatabaseEngine,
  type DatabaseHandle,
  type DatabaseRole,
  type Migration,
} from '../../src/engines/engine.js';
import { isReadOnlyViolation } from './read-only-violation.js';

/** One application session on one physical database. */
export interface Session {
  query(sql: string): Promise<Record<string, unknown>[]>;
  close(): Promise<void>;
}

/** The SQL an engine's dialect needs for the contract; everything else in the suite is engine-neutral. */
export interface EngineDialect {
  /** Tables items (auto id, note), item_log (one row per item, foreign key) and counters('writes'), with `rows` items. */
  seed(rows: number): string;
  /** One transaction: an item, its log row, and counters('writes') + 1 — so a consistent copy has items = seed + counter. */
  writeTransaction(note: string): string;
  /** One row: items, logs, orphans (logs without item), counter. */
  consistency: string;
  /** Rows describing tables, columns and indexes of the application's schema. */
  schemaSignature: string;
  /** An insert that relies on the id generator: fails with a duplicate key when the generator was not copied. */
  insertUsingGenerator: string;
  /** Statements an application may run to get out of read-only mode before writing, and how it ends the attempt. */
  readOnlyEscapes: string[];
  endAttempt: string;
  writes: Record<'INSERT' | 'UPDATE' | 'DELETE' | 'TRUNCATE', string>;
  /** Migrations: a table, a row that needs it, a schema-and-data change of items. */
  createWidgets: string;
  insertWidget: string;
  changeItems: string;
  /** Creates `table`, writes to it, then fails; the message must match `error`. */
  failingMigration(table: string): { sql: string; error: RegExp };
  /** One row: found (truthy when the table exists). */
  tableExists(table: string): string;
  /** Rows name, checksum of the history table, by name. */
  history: string;
}

export interface EngineContractContext {
  engine: DatabaseEngine;
  dialect: EngineDialect;
  /** The password in every handle's connection string: no error message may ever contain it. */
  password: string;
  /** Copies follow their original here (PostgreSQL: a superuser login on a wal_level=logical server); snapshots otherwise. */
  canFollow: boolean;
  /** A new, empty original database with a unique name; hostile: a name that needs quoting everywhere. */
  createDatabase(options?: { hostileName?: boolean }): Promise<DatabaseHandle>;
  /** A handle whose database does not exist on the server. */
  missingDatabase(): DatabaseHandle;
  /** A handle pointing at a port where no server listens. */
  unreachableDatabase(): Promise<DatabaseHandle>;
  /** An application session on the original or temporary database. */
  connect(db: DatabaseHandle, role: DatabaseRole): Promise<Session>;
  /** Leaves behind what a copy interrupted by a crash leaves: a half-built work-in-progress copy. */
  simulateInterruptedCopy(db: DatabaseHandle): Promise<void>;
  /**
   * Leaves behind what a restore interrupted by a crash can leave: no original, only the restore point.
   * Answers why instead when the engine's restore can never leave that state (a SQL Server snapshot).
   */
  simulateInterruptedRestore(db: DatabaseHandle): Promise<void | string>;
  /** What is on the server for this logical database, sorted: 'original', 'restore-point', 'temporary', 'work-in-progress'. */
  databasesOf(db: DatabaseHandle): Promise<DatabaseKind[]>;
  /** Removes all of the above. */
  dispose(db: DatabaseHandle): Promise<void>;
  close(): Promise<void>;
}

export type DatabaseKind = 'original' | 'restore-point' | 'temporary' | 'work-in-progress';

export type MakeEngineContractContext = () => Promise<EngineContractContext | { skip: string }>;

const noHeartbeat = () => undefined;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

async function queryOnce(ctx: EngineContractContext, db: DatabaseHandle, role: DatabaseRole, sql: string) {
  const session = await ctx.connect(db, role);
  try {
    return await session.query(sql);
  } finally {
    await session.close();
  }
}

async function consistency(ctx: EngineContractContext, db: DatabaseHandle, role: DatabaseRole) {
  const [row] = await queryOnce(ctx, db, role, ctx.dialect.consistency);
  return { items: Number(row?.items), logs: Number(row?.logs), orphans: Number(row?.orphans), counter: Number(row?.counter) };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(Error);
    return error as Error;
  }
  throw new Error('expected the operation to fail, and it succeeded');
}

function expectNoSecret(ctx: EngineContractContext, error: Error) {
  const text = `${String(error)}\n${error.stack ?? ''}\n${JSON.stringify(error)}`;
  for (const secret of [ctx.password, encodeURIComponent(ctx.password)]) expect(text).not.toContain(secret);
}

/**
 * The behaviour every database engine promises, against a real server: run once per engine (and per
 * kind of connecting role) with a context that knows the engine's SQL dialect.
 */
export function describeEngineContract(engineName: string, makeContext: MakeEngineContractContext): void {
  describe(`${engineName} engine contract`, () => {
    let ctx: EngineContractContext | undefined;
    let skipReason: string | undefined;
    const handles: DatabaseHandle[] = [];

    beforeAll(async () => {
      const made = await makeContext();
      if ('skip' in made) skipReason = made.skip;
      else ctx = made;
    });
    afterAll(async () => {
      if (!ctx) return;
      for (const db of handles) await ctx.dispose(db);
      await ctx.close();
    });

    /** The context, or the test skips itself with the reason the engine is not available here. */
    const use = (t: TestContext): EngineContractContext => {
      if (!ctx) t.skip(skipReason ?? 'engine context not available');
      return ctx as EngineContractContext;
    };

    async function seeded(c: EngineContractContext, rows: number, options?: { hostileName?: boolean }) {
      const db = await c.createDatabase(options);
      handles.push(db);
      await queryOnce(c, db, 'original', c.dialect.seed(rows));
      return db;
    }

    test('inspect reports a fresh database truthfully, and a missing one as missing', async (t) => {
      const c = use(t);
      const db = await seeded(c, 10);
      expect(await c.engine.inspect(db)).toEqual({
        original: { exists: true },
        temporary: { exists: false, readOnly: false, following: false },
        restorePoint: { exists: false },
        appliedMigrations: [],
      });
      const missing = c.missingDatabase();
      expect(await c.engine.inspect(missing)).toEqual({
        original: { exists: false },
        temporary: { exists: false, readOnly: false, following: false },
        restorePoint: { exists: false },
        appliedMigrations: [],
      });
    });

    test('ping answers for a reachable database and fails as transient for an unreachable one', async (t) => {
      const c = use(t);
      const db = await seeded(c, 1);
      await c.engine.ping(db);
      const error = await rejection(c.engine.ping(await c.unreachableDatabase()));
      expect(error).toBeInstanceOf(EngineError);
      expect((error as EngineError).failureClass).toBe('transient');
      expectNoSecret(c, error);
    });

    test('the copy is complete and consistent while the live database keeps accepting writes', async (t) => {
      const c = use(t);
      const seedRows = 40_000;
      const db = await seeded(c, seedRows);
      const signature = await queryOnce(c, db, 'original', c.dialect.schemaSignature);

      // Writers run during the whole copy; each transaction is timed.
      const writers = await Promise.all([c.connect(db, 'original'), c.connect(db, 'original')]);
      let copying = true;
      const latencies: number[] = [];
      const failures: unknown[] = [];
      const writing = writers.map(async (session, w) => {
        for (let i = 0; copying; i++) {
          const started = performance.now();
          try {
            await session.query(c.dialect.writeTransaction(`writer ${w} #${i}`));
          } catch (error) {
            failures.push(error);
          }
          latencies.push(performance.now() - started);
        }
      });
      const beats: unknown[] = [];
      let copied: CopyResult | undefined;
      try {
        await new Promise((r) => setTimeout(r, 100));
        const before = latencies.length;
        copied = await c.engine.copyToTemporary(db, (d) => beats.push(d));
        expect(latencies.length - before, 'writes committed while the copy ran').toBeGreaterThan(5);
      } finally {
        copying = false;
        await Promise.all(writing);
        await Promise.all(writers.map((s) => s.close()));
      }
      expect(failures).toEqual([]);
      expect(Math.max(...latencies), 'slowest write during the copy (ms)').toBeLessThan(1_500);
      expect(beats.length).toBeGreaterThan(0);

      // Consistent: one snapshot, so every committed write is either wholly in the copy or wholly absent.
      const copy = await consistency(c, db, 'temporary');
      expect(copy.orphans).toBe(0);
      expect(copy.logs).toBe(copy.items);
      expect(copy.items).toBe(seedRows + copy.counter);
      const live = await consistency(c, db, 'original');
      expect(live.items).toBe(seedRows + latencies.length);
      expect(copy.counter).toBeLessThanOrEqual(live.counter);
      expect(copied?.following).toBe(c.canFollow);
      if (!copied?.following) expect(copied?.snapshotReason).toMatch(/\w/);
      // Once it stops following, a following copy has every write the original committed.
      const stopped = await c.engine.stopFollowing(db, noHeartbeat);
      expect(stopped).toMatchObject({ wasFollowing: c.canFollow, caughtUp: c.canFollow });
      if (c.canFollow) expect(await consistency(c, db, 'temporary')).toEqual(live);
      // Complete: same schema, and the id generator continues where the original was.
      expect(await queryOnce(c, db, 'temporary', c.dialect.schemaSignature)).toEqual(signature);
      await queryOnce(c, db, 'temporary', c.dialect.insertUsingGenerator);
      expect(await c.engine.inspect(db)).toMatchObject({ original: { exists: true }, temporary: { exists: true, readOnly: false } });
    });

    test('copying again is a no-op once a complete copy exists', async (t) => {
      const c = use(t);
      const db = await seeded(c, 100);
      await c.engine.copyToTemporary(db, noHeartbeat);
      await c.engine.stopFollowing(db, noHeartbeat);
      await queryOnce(c, db, 'original', c.dialect.writeTransaction('after the copy'));
      // Not copied again, and a copy whose following was stopped does not start following again.
      expect(await c.engine.copyToTemporary(db, noHeartbeat)).toMatchObject({
        following: false,
        snapshotReason: expect.stringMatching(/existed already/),
      });
      expect((await consistency(c, db, 'temporary')).items).toBe(100);
      expect((await consistency(c, db, 'original')).items).toBe(101);
    });

    test('a copy follows the original until it stops following, then changes no more; stopping again is a no-op', async (t) => {
      const c = use(t);
      const db = await seeded(c, 20);
      expect((await c.engine.copyToTemporary(db, noHeartbeat)).following).toBe(c.canFollow);
      expect((await c.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: false, following: c.canFollow });
      await queryOnce(c, db, 'original', c.dialect.writeTransaction('while the copy follows'));
      const stopped = await c.engine.stopFollowing(db, noHeartbeat, { timeoutMs: 30_000 });
      expect(stopped).toMatchObject({ wasFollowing: c.canFollow, caughtUp: c.canFollow, lagBytes: 0 });
      expect((await consistency(c, db, 'temporary')).items).toBe(c.canFollow ? 21 : 20);
      await queryOnce(c, db, 'original', c.dialect.writeTransaction('after the stop'));
      expect(await c.engine.stopFollowing(db, noHeartbeat)).toMatchObject({ wasFollowing: false, caughtUp: false });
      expect((await c.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: false, following: false });
      expect((await consistency(c, db, 'temporary')).items).toBe(c.canFollow ? 21 : 20);
    });

    test('a copy interrupted by a crash is never taken for complete: the retry cleans it and redoes it', async (t) => {
      const c = use(t);
      const db = await seeded(c, 500);
      await c.simulateInterruptedCopy(db);
      expect((await c.engine.inspect(db)).temporary.exists).toBe(false);
      await c.engine.copyToTemporary(db, noHeartbeat);
      expect(await consistency(c, db, 'temporary')).toEqual({ items: 500, logs: 500, orphans: 0, counter: 0 });
      expect(await c.databasesOf(db)).toEqual(['original', 'temporary']);
    });

    test('the read-only copy refuses INSERT, UPDATE, DELETE and TRUNCATE whatever the session says, and still serves reads', async (t) => {
      const c = use(t);
      const db = await seeded(c, 50);
      await c.engine.copyToTemporary(db, noHeartbeat);
      expect((await c.engine.inspect(db)).temporary.readOnly).toBe(false);
      await c.engine.makeTemporaryReadOnly(db);
      await c.engine.makeTemporaryReadOnly(db); // idempotent
      expect((await c.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: true, following: c.canFollow });

      for (const [operation, sql] of Object.entries(c.dialect.writes)) {
        const session = await c.connect(db, 'temporary');
        try {
          for (const escape of c.dialect.readOnlyEscapes) await session.query(escape);
          const error = await rejection(session.query(sql));
          expect(isReadOnlyViolation(error), `${operation}: ${error.message}`).toBe(true);
          expect(error.message).toMatch(/read-only/);
          await session.query(c.dialect.endAttempt);
        } finally {
          await session.close();
        }
      }
      expect(await consistency(c, db, 'temporary')).toEqual({ items: 50, logs: 50, orphans: 0, counter: 0 });
      // The live database is untouched by all this.
      await queryOnce(c, db, 'original', c.dialect.writeTransaction('live write'));
      expect((await consistency(c, db, 'original')).items).toBe(51);
    });

    test('restore point, then migrations, then restore gives back the pre-migration database', async (t) => {
      const c = use(t);
      const db = await seeded(c, 200);
      const signature = await queryOnce(c, db, 'original', c.dialect.schemaSignature);
      const data = await consistency(c, db, 'original');

      await c.engine.createRestorePoint(db, noHeartbeat);
      await c.engine.createRestorePoint(db, noHeartbeat); // no-op
      expect((await c.engine.inspect(db)).restorePoint.exists).toBe(true);
      await c.engine.applyMigrations(db, [{ name: '0001_change_items.sql', sql: c.dialect.changeItems }], noHeartbeat);
      expect(await queryOnce(c, db, 'original', c.dialect.schemaSignature)).not.toEqual(signature);
      expect(await consistency(c, db, 'original')).not.toEqual(data);

      const beats: unknown[] = [];
      await c.engine.restoreFromRestorePoint(db, (d) => beats.push(d));
      expect(beats.length).toBeGreaterThan(0);
      expect(await queryOnce(c, db, 'original', c.dialect.schemaSignature)).toEqual(signature);
      expect(await consistency(c, db, 'original')).toEqual(data);
      expect(await c.engine.inspect(db)).toMatchObject({
        original: { exists: true },
        restorePoint: { exists: true },
        appliedMigrations: [],
      });

      // Restoring again ends in the same state; the restore point stays until it is dropped.
      await queryOnce(c, db, 'original', c.dialect.writeTransaction('written after the restore'));
      await c.engine.restoreFromRestorePoint(db, noHeartbeat);
      expect(await consistency(c, db, 'original')).toEqual(data);
      await c.engine.dropRestorePoint(db);
      await c.engine.dropRestorePoint(db);
      expect((await c.engine.inspect(db)).restorePoint.exists).toBe(false);
      const error = await rejection(c.engine.restoreFromRestorePoint(db, noHeartbeat));
      expect(error).toMatchObject({ failureClass: 'invalid-input' });
      expect((await consistency(c, db, 'original')).items).toBe(200);
    });

    test('a restore interrupted after the original was dropped recreates it from the restore point', async (t) => {
      const c = use(t);
      const db = await seeded(c, 30);
      await c.engine.createRestorePoint(db, noHeartbeat);
      const impossible = await c.simulateInterruptedRestore(db);
      if (impossible) t.skip(impossible);
      expect((await c.engine.inspect(db)).original.exists).toBe(false);
      await c.engine.restoreFromRestorePoint(db, noHeartbeat);
      expect(await consistency(c, db, 'original')).toEqual({ items: 30, logs: 30, orphans: 0, counter: 0 });
    });

    test('a restore point is refused, not forced, while a session is connected to the original', async (t) => {
      const c = use(t);
      const db = await seeded(c, 5);
      const session = await c.connect(db, 'original');
      try {
        const error = await rejection(c.engine.createRestorePoint(db, noHeartbeat));
        expect(error).toBeInstanceOf(EngineError);
        expect((error as EngineError).failureClass).toBe('transient');
        expect(error.message).toMatch(/connected/);
        expectNoSecret(c, error);
        await session.query(c.dialect.consistency); // still alive: nothing was terminated
      } finally {
        await session.close();
      }
      expect((await c.engine.inspect(db)).restorePoint.exists).toBe(false);
      await c.engine.createRestorePoint(db, noHeartbeat);
      expect((await c.engine.inspect(db)).restorePoint.exists).toBe(true);
    });

    test('migrations are applied once each, in name order, and recorded with their checksums', async (t) => {
      const c = use(t);
      const db = await seeded(c, 3);
      const widgets: Migration = { name: '0001_widgets.sql', sql: c.dialect.createWidgets };
      const widget: Migration = { name: '0002_widget.sql', sql: c.dialect.insertWidget };
      const beats: unknown[] = [];
      // Given out of order: 0002 needs the table of 0001.
      expect(await c.engine.applyMigrations(db, [widget, widgets], (d) => beats.push(d))).toEqual({
        applied: [widgets.name, widget.name],
        alreadyApplied: [],
      });
      expect(beats.length).toBeGreaterThan(0);
      expect(await c.engine.applyMigrations(db, [widgets, widget], noHeartbeat)).toEqual({
        applied: [],
        alreadyApplied: [widgets.name, widget.name],
      });
      const items: Migration = { name: '0003_items.sql', sql: c.dialect.changeItems };
      expect(await c.engine.applyMigrations(db, [items, widget, widgets], noHeartbeat)).toEqual({
        applied: [items.name],
        alreadyApplied: [widgets.name, widget.name],
      });

      const history = await queryOnce(c, db, 'original', c.dialect.history);
      expect(history.map((r) => ({ name: r.name, checksum: r.checksum }))).toEqual(
        [widgets, widget, items].map((m) => ({ name: m.name, checksum: sha256(m.sql) })),
      );
      expect((await c.engine.inspect(db)).appliedMigrations).toEqual([widgets.name, widget.name, items.name]);
    });

    test('two appliers at once apply each migration exactly once', async (t) => {
      const c = use(t);
      const db = await seeded(c, 3);
      const migrations: Migration[] = [
        { name: '0001_widgets.sql', sql: c.dialect.createWidgets },
        { name: '0002_widget.sql', sql: c.dialect.insertWidget },
      ];
      const results = await Promise.all([
        c.engine.applyMigrations(db, migrations, noHeartbeat),
        c.engine.applyMigrations(db, migrations, noHeartbeat),
      ]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(migrations.map((m) => m.name));
      expect(results.flatMap((r) => r.alreadyApplied).sort()).toEqual(migrations.map((m) => m.name));
    });

    test('a migration changed after it was applied is refused, and nothing else is applied', async (t) => {
      const c = use(t);
      const db = await seeded(c, 3);
      await c.engine.applyMigrations(db, [{ name: '0001_widgets.sql', sql: c.dialect.createWidgets }], noHeartbeat);
      const error = await rejection(
        c.engine.applyMigrations(
          db,
          [
            { name: '0001_widgets.sql', sql: `${c.dialect.createWidgets}\n-- edited` },
            { name: '0002_items.sql', sql: c.dialect.changeItems },
          ],
          noHeartbeat,
        ),
      );
      expect(error).toMatchObject({ failureClass: 'migration-failed' });
      expect(error.message).toMatch(/migration 0001_widgets\.sql was changed after it was applied \(checksum/);
      expect((await c.engine.inspect(db)).appliedMigrations).toEqual(['0001_widgets.sql']);
    });

    test('a package that lacks a migration the database applied is refused, naming it, before anything is applied', async (t) => {
      const c = use(t);
      const db = await seeded(c, 4);
      const widgets: Migration = { name: '0001_widgets.sql', sql: c.dialect.createWidgets };
      const widget: Migration = { name: '0002_widget.sql', sql: c.dialect.insertWidget };
      const items: Migration = { name: '0003_items.sql', sql: c.dialect.changeItems };
      await c.engine.applyMigrations(db, [widgets, widget], noHeartbeat);
      const before = await consistency(c, db, 'original');

      // An older package (no 0002) with a new migration of its own: refused, and 0003 (it deletes logs) never runs.
      const older = await rejection(c.engine.applyMigrations(db, [items, widgets], noHeartbeat));
      expect(older).toMatchObject({ failureClass: 'migration-failed' });
      expect(older.message).toMatch(/already applied migration 0002_widget\.sql that this package does not have/);
      expect(older.message).toMatch(/allowMissingMigrations/);
      expectNoSecret(c, older);
      // Nothing to apply at all changes nothing about it; every missing one is named.
      const nothingNew = await rejection(c.engine.applyMigrations(db, [widgets], noHeartbeat, { allowMissing: false }));
      expect(nothingNew.message).toMatch(/migration 0002_widget\.sql that/);
      const none = await rejection(c.engine.applyMigrations(db, [], noHeartbeat));
      expect(none.message).toMatch(/2 migrations 0001_widgets\.sql, 0002_widget\.sql that/);
      expect((await c.engine.inspect(db)).appliedMigrations).toEqual([widgets.name, widget.name]);
      expect(await consistency(c, db, 'original')).toEqual(before);

      // Allowed explicitly (an older package rolled forward on purpose): its own migrations apply, the missing one is reported.
      expect(await c.engine.applyMigrations(db, [items, widgets], noHeartbeat, { allowMissing: true })).toEqual({
        applied: [items.name],
        alreadyApplied: [widgets.name],
        missing: [widget.name],
      });
      expect((await c.engine.inspect(db)).appliedMigrations).toEqual([widgets.name, widget.name, items.name]);
      expect((await consistency(c, db, 'original')).logs).toBeLessThan(before.logs);
    });

    test('a failing migration is named with the database error and leaves no trace', async (t) => {
      const c = use(t);
      const db = await seeded(c, 3);
      const failing = c.dialect.failingMigration('half_done');
      const error = await rejection(
        c.engine.applyMigrations(
          db,
          [
            { name: '0002_broken.sql', sql: failing.sql },
            { name: '0001_widgets.sql', sql: c.dialect.createWidgets },
            { name: '0003_never.sql', sql: c.dialect.insertWidget },
          ],
          noHeartbeat,
        ),
      );
      expect(error).toMatchObject({ failureClass: 'migration-failed' });
      expect(error.message).toMatch(/0002_broken\.sql/);
      expect(error.message).toMatch(failing.error);
      expectNoSecret(c, error);
      // Migrations before it stay applied (each has its own transaction); it and those after it left nothing.
      expect((await c.engine.inspect(db)).appliedMigrations).toEqual(['0001_widgets.sql']);
      const [row] = await queryOnce(c, db, 'original', c.dialect.tableExists('half_done'));
      expect(Boolean(row?.found)).toBe(false);
    });

    test('migration names are checked before anything is applied', async (t) => {
      const c = use(t);
      const db = await seeded(c, 1);
      for (const name of ['../0001_x.sql', '0001 x.sql', '0001_x.txt', '']) {
        const error = await rejection(
          c.engine.applyMigrations(
            db,
            [
              { name: '0000_ok.sql', sql: c.dialect.createWidgets },
              { name, sql: 'select 1' },
            ],
            noHeartbeat,
          ),
        );
        expect(error).toMatchObject({ failureClass: 'invalid-input' });
      }
      expect((await c.engine.inspect(db)).appliedMigrations).toEqual([]);
    });

    test('dropping the temporary copy and the restore point removes them and their leftovers, idempotently', async (t) => {
      const c = use(t);
      const db = await seeded(c, 10);
      await c.engine.dropTemporary(db); // nothing to drop yet
      await c.engine.dropRestorePoint(db);
      await c.engine.copyToTemporary(db, noHeartbeat);
      await c.engine.makeTemporaryReadOnly(db);
      await c.engine.createRestorePoint(db, noHeartbeat); // a copy that follows stops following first
      await c.simulateInterruptedCopy(db);
      const slot = await c.connect(db, 'temporary'); // a clone slot that was not stopped cleanly
      try {
        await c.engine.dropTemporary(db);
        await c.engine.dropTemporary(db);
      } finally {
        await slot.close().catch(() => undefined);
      }
      await c.engine.dropRestorePoint(db);
      await c.engine.dropRestorePoint(db);
      expect(await c.databasesOf(db)).toEqual(['original']);
      expect(await c.engine.inspect(db)).toEqual({
        original: { exists: true },
        temporary: { exists: false, readOnly: false, following: false },
        restorePoint: { exists: false },
        appliedMigrations: [],
      });
    });

    test('a database name that needs quoting goes through every operation', async (t) => {
      const c = use(t);
      const db = await seeded(c, 20, { hostileName: true });
      expect((await c.engine.copyToTemporary(db, noHeartbeat)).following).toBe(c.canFollow);
      await c.engine.makeTemporaryReadOnly(db);
      const session = await c.connect(db, 'temporary');
      try {
        expect(isReadOnlyViolation(await rejection(session.query(c.dialect.writes.INSERT)))).toBe(true);
      } finally {
        await session.close();
      }
      await queryOnce(c, db, 'original', c.dialect.writeTransaction('followed'));
      expect(await c.engine.stopFollowing(db, noHeartbeat)).toMatchObject({ wasFollowing: c.canFollow, caughtUp: c.canFollow });
      expect((await consistency(c, db, 'temporary')).items).toBe(c.canFollow ? 21 : 20);
      await c.engine.createRestorePoint(db, noHeartbeat);
      await c.engine.applyMigrations(db, [{ name: '0001_change_items.sql', sql: c.dialect.changeItems }], noHeartbeat);
      await c.engine.restoreFromRestorePoint(db, noHeartbeat);
      expect(await c.engine.inspect(db)).toEqual({
        original: { exists: true },
        temporary: { exists: true, readOnly: true, following: false },
        restorePoint: { exists: true },
        appliedMigrations: [],
      });
      expect(await consistency(c, db, 'original')).toEqual({ items: 21, logs: 21, orphans: 0, counter: 1 });
      await c.engine.dropTemporary(db);
      await c.engine.dropRestorePoint(db);
      expect(await c.databasesOf(db)).toEqual(['original']);
    });

    test('error messages never contain the password', async (t) => {
      const c = use(t);
      const missing = c.missingDatabase();
      const unreachable = await c.unreachableDatabase();
      const failures = [
        () => c.engine.ping(missing),
        () => c.engine.ping(unreachable),
        () => c.engine.inspect(unreachable),
        () => c.engine.copyToTemporary(missing, noHeartbeat),
        () => c.engine.copyToTemporary(unreachable, noHeartbeat),
        () => c.engine.createRestorePoint(missing, noHeartbeat),
        () => c.engine.restoreFromRestorePoint(missing, noHeartbeat),
        () => c.engine.applyMigrations(missing, [{ name: '0001_x.sql', sql: 'select 1' }], noHeartbeat),
        () => c.engine.makeTemporaryReadOnly(missing),
      ];
      for (const failure of failures) expectNoSecret(c, await rejection(failure()));
    });
  });
}
