/**
 * readwrite-replay on the run's real PostgreSQL (issue 13): the temporary copy accepts writes, which are captured there
 * and replayed onto the migrated original. Every accepted write is counted into the original; what no longer fits is
 * reported with its table and key; a replay repeated, interrupted or done again on a restored original applies each
 * change once; what the copy receives by following its original is never captured.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { EngineError, type DatabaseEngine, type DatabaseHandle } from '../../src/engines/engine.js';
import { createSqlServerEngine } from '../../src/engines/sqlserver.js';
import type { EngineContractContext, Session } from './contract.js';
import { makePostgresContext } from './postgres-context.js';

const noHeartbeat = () => undefined;
const GAP = 1_000_000_000;

let ctx: EngineContractContext;
let engine: Required<Pick<DatabaseEngine, 'startCapture' | 'replayChanges'>> & DatabaseEngine;
const handles: DatabaseHandle[] = [];

beforeAll(async () => {
  ctx = await makePostgresContext({ role: 'superuser' });
  const { startCapture, replayChanges } = ctx.engine;
  if (!startCapture || !replayChanges) throw new Error('the PostgreSQL engine must offer startCapture and replayChanges');
  engine = ctx.engine as typeof engine;
});
afterAll(async () => {
  for (const db of handles) await ctx.dispose(db);
  await ctx.close();
});

const originalOf = (db: DatabaseHandle) => decodeURIComponent(new URL(db.connectionString).pathname.slice(1));

/** A superuser session on the original or on the copy. */
async function asAdmin<T>(db: DatabaseHandle, role: 'original' | 'temporary', work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${encodeURIComponent(originalOf(db) + (role === 'temporary' ? '__cutover_tmp' : ''))}`;
  const client = new pg.Client(url.toString());
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const sql = (db: DatabaseHandle, role: 'original' | 'temporary', text: string) =>
  asAdmin(db, role, async (c) => {
    const result = await c.query(text);
    const last = Array.isArray(result) ? (result as pg.QueryResult[]).at(-1) : result;
    return (last?.rows ?? []) as Record<string, unknown>[];
  });

const one = async (db: DatabaseHandle, role: 'original' | 'temporary', text: string) => (await sql(db, role, text))[0] ?? {};
const count = async (db: DatabaseHandle, role: 'original' | 'temporary', text: string) =>
  Number((await one(db, role, `select count(*) as n from (${text}) q`)).n);

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Tables the conflict tests need beyond the contract's items, item_log and counters. */
const EXTRA = `
  create table profiles (id bigserial primary key, name text not null, nickname text);
  create table tags (code text primary key, label text);
  create table badges (id int primary key, holder text);
  create table scratch (id int primary key);
  create table events (id int generated always as identity primary key, a int not null, doubled int generated always as (a * 2) stored);
  create table owners (id int primary key);
  create table pets (id int primary key, owner int not null references owners);
  insert into owners values (1); insert into pets values (1, 1);
  insert into profiles (name) values ('seed');`;

/** An original with the contract's seed, and a copy that no longer follows it and captures its writes. */
async function capturing(rows: number, extra = EXTRA): Promise<DatabaseHandle> {
  const db = await ctx.createDatabase();
  handles.push(db);
  await sql(db, 'original', ctx.dialect.seed(rows) + extra);
  await engine.copyToTemporary(db, noHeartbeat);
  await engine.stopFollowing(db, noHeartbeat);
  await engine.startCapture(db);
  return db;
}

const migrate = (db: DatabaseHandle, name: string, text: string) => engine.applyMigrations(db, [{ name, sql: text }], noHeartbeat);

/** Runs `write` in a loop on its own session until stopped or `limit` writes; counts what committed. */
function steadyWriter(session: Session, write: (i: number) => string, limit = Infinity) {
  let running = true;
  let committed = 0;
  const failures: unknown[] = [];
  const loop = (async () => {
    for (let i = 0; running && i < limit; i++) {
      try {
        await session.query(write(i));
        committed++;
      } catch (error) {
        // A broken session fails at once, again and again: the first failure ends the loop (and fails the test).
        failures.push(error);
        break;
      }
    }
  })();
  const finished = loop.then(() => true);
  return {
    committed: () => committed,
    failures,
    /** Whether it has stopped writing (its limit reached, or a failure). */
    done: () => Promise.race([finished, Promise.resolve(false)]),
    async stop() {
      running = false;
      await loop;
      await session.close();
    },
  };
}

describe('capture on the temporary copy', () => {
  test('a table without a primary key: refused, named, and nothing is set up', async () => {
    const db = await ctx.createDatabase();
    handles.push(db);
    await sql(db, 'original', `${ctx.dialect.seed(3)} create table notes (body text); create table "Odd Name" (v int);`);
    await engine.copyToTemporary(db, noHeartbeat);
    await engine.stopFollowing(db, noHeartbeat);
    const refused = await engine.startCapture(db).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(EngineError);
    expect(refused).toMatchObject({ failureClass: 'invalid-input' });
    expect((refused as Error).message).toMatch(/public\."Odd Name", public\.notes have no primary key, and replay needs one/);
    expect(await one(db, 'temporary', "select to_regnamespace('cutover_capture') is null as none")).toEqual({ none: true });
    expect(await one(db, 'temporary', "select last_value::text from pg_sequences where sequencename = 'items_id_seq'")).toEqual({
      last_value: '3',
    });
  });

  test('what the copy receives by following is not captured; what the application writes on it is, by any login', async () => {
    const db = await ctx.createDatabase();
    handles.push(db);
    await sql(db, 'original', ctx.dialect.seed(20) + EXTRA);
    expect((await engine.copyToTemporary(db, noHeartbeat)).following).toBe(true);
    const started = await engine.startCapture(db);
    expect(started).toMatchObject({ tables: 10, sequencesMoved: 4, sequenceGap: GAP });
    expect(started.narrowGaps).toBeUndefined();

    // The original's writes reach the copy through the subscription: applied there, never captured.
    await sql(db, 'original', `${ctx.dialect.writeTransaction('on the original')} update profiles set nickname = 'x'; truncate badges;`);
    await eventually(
      "the copy has the original's write",
      async () => (await count(db, 'temporary', "select 1 from items where note = 'on the original'")) === 1,
    );
    await eventually(
      'the copy has the update',
      async () => (await count(db, 'temporary', "select 1 from profiles where nickname = 'x'")) === 1,
    );
    await engine.stopFollowing(db, noHeartbeat);
    expect(await count(db, 'temporary', 'select * from cutover_capture.changes')).toBe(0);

    // The copy's own write is captured: the item, its log row and the counter, with the keys the gap made.
    await sql(db, 'temporary', ctx.dialect.writeTransaction('on the copy'));
    expect(await sql(db, 'temporary', 'select table_name, op, pkey from cutover_capture.changes order by id')).toEqual([
      { table_name: 'items', op: 'insert', pkey: { id: GAP + 21 } },
      { table_name: 'item_log', op: 'insert', pkey: { id: GAP + 21 } },
      { table_name: 'counters', op: 'update', pkey: { name: 'writes' } },
    ]);
    expect(await one(db, 'temporary', "select changed from cutover_capture.changes where table_name = 'counters'")).toEqual({
      changed: ['n'],
    });

    // The application's own login, with no right on Cutover's schema, is captured too; a no-op update is not.
    await sql(
      db,
      'temporary',
      `create role replay_app_${originalOf(db)} login password 'app';
       grant usage on schema public to replay_app_${originalOf(db)};
       grant select, insert, update, delete on all tables in schema public to replay_app_${originalOf(db)};
       grant usage on all sequences in schema public to replay_app_${originalOf(db)};`,
    );
    try {
      const url = new URL(inject('pgAdminUrl'));
      url.username = `replay_app_${originalOf(db)}`;
      url.password = 'app';
      url.pathname = `/${originalOf(db)}__cutover_tmp`;
      const app = new pg.Client(url.toString());
      await app.connect();
      await app.query("insert into tags values ('by the app', 'x'); update tags set label = label");
      await expect(app.query('select * from cutover_capture.changes')).rejects.toThrow(/permission denied/);
      await app.end();
    } finally {
      await sql(db, 'temporary', `drop owned by replay_app_${originalOf(db)}; drop role replay_app_${originalOf(db)};`);
    }
    expect(await count(db, 'temporary', "select 1 from cutover_capture.changes where table_name = 'tags'")).toBe(1);

    // Again: the same capture, its changes kept, the sequences not moved a second time.
    expect(await engine.startCapture(db)).toMatchObject({ captureId: started.captureId, sequencesMoved: 0 });
    expect(await count(db, 'temporary', 'select * from cutover_capture.changes')).toBe(4);
  });
});

describe('replay onto the migrated original', () => {
  test('under steady writers on the copy and a preview writing on the original: every accepted write is in the migrated original', async () => {
    const db = await capturing(100);
    const WRITES = 600;
    const copyWriters = await Promise.all(
      [0, 1, 2].map(async (w) =>
        steadyWriter(
          await ctx.connect(db, 'temporary'),
          (i) =>
            i % 5 === 4
              ? `update items set note = note || ' edited' where note = 'copy ${w}-${i - 1}'`
              : ctx.dialect.writeTransaction(`copy ${w}-${i}`),
          WRITES,
        ),
      ),
    );
    const preview = steadyWriter(await ctx.connect(db, 'original'), (i) => `insert into items (note) values ('preview ${i}')`);
    const replayedWhileWriting: number[] = [];
    try {
      await eventually('the copy took writes', async () => copyWriters.every((w) => w.committed() > 10));
      // A migration that adds a NOT NULL column with a default: replayed rows take the default.
      await migrate(db, '0001_tagline.sql', "alter table items add column tagline text not null default 'none';");
      while (!(await Promise.all(copyWriters.map((w) => w.done()))).every(Boolean)) {
        // The preview goes on taking keys below the gap: the original's sequences stay where they are until the final replay.
        const partial = await engine.replayChanges(db, noHeartbeat);
        expect(partial).toMatchObject({ conflicts: [], sequencesSynced: 0 });
        replayedWhileWriting.push(partial.applied);
      }
    } finally {
      for (const w of [...copyWriters, preview]) await w.stop();
    }
    expect(replayedWhileWriting.length, 'replays while the copy was taking writes').toBeGreaterThan(0);
    for (const w of [...copyWriters, preview]) expect(w.failures).toEqual([]);
    const final = await engine.replayChanges(db, noHeartbeat, { final: true });
    expect(final.conflicts).toEqual([]);
    expect(final.sequencesSynced).toBe(4); // items, item_log, profiles, events: each moved by the gap on the copy
    expect(final.total.conflicts).toBe(0);

    // Counted: every write the copy accepted (inserts and edits), and every preview row, are in the original.
    const accepted = copyWriters.map((w) => w.committed());
    const inserts = accepted.reduce((sum, n) => sum + n - Math.floor(n / 5), 0);
    expect(await count(db, 'original', "select 1 from items where note like 'copy %'")).toBe(inserts);
    expect(await count(db, 'original', "select 1 from items where note like 'preview %'")).toBe(preview.committed());
    expect(await count(db, 'original', "select 1 from items where note like 'copy %' and tagline = 'none'")).toBe(inserts);
    // Same rows as the copy, key for key, edits included.
    const digest = `select md5(string_agg(id || ':' || note, ',' order by id)) as d, count(*)::int as n from items where note not like 'preview %'`;
    expect(await one(db, 'original', digest)).toEqual(await one(db, 'temporary', digest));
    const logs = `select md5(string_agg(item_id || ':' || message, ',' order by id)) as d from item_log`;
    expect(await one(db, 'original', logs)).toEqual(await one(db, 'temporary', logs));
    expect(await one(db, 'original', "select n from counters where name = 'writes'")).toEqual(
      await one(db, 'temporary', "select n from counters where name = 'writes'"),
    );
    // The original's keys now go past every key the copy made.
    const lastKey = `select last_value::bigint as v from pg_sequences where sequencename = 'items_id_seq'`;
    expect(BigInt(String((await one(db, 'original', lastKey)).v))).toBeGreaterThanOrEqual(
      BigInt(String((await one(db, 'temporary', lastKey)).v)),
    );
    await sql(db, 'original', ctx.dialect.insertUsingGenerator);
  });

  test('changes that no longer fit are conflicts, with table and key, kept whole; replay goes on; a second replay applies nothing', async () => {
    const db = await capturing(10);
    await sql(
      db,
      'temporary',
      `insert into profiles (name, nickname) values ('ann', 'annie');
       insert into profiles (name) values ('bob');
       insert into tags values ('red', 'from the copy');
       insert into badges values (1, 'ann');
       update items set note = 'edited on the copy' where id = 3;
       delete from item_log where item_id = 5;
       delete from item_log where item_id = 6;
       insert into scratch values (1);
       insert into items (note) values ('fits');
       insert into events (a) values (5);`,
    );
    // Meanwhile on the original: the preview took the tag and removed item 3 and the log of item 6.
    await sql(
      db,
      'original',
      `insert into tags values ('red', 'from the preview');
       delete from item_log where item_id in (3, 6); delete from items where id = 3;`,
    );
    await migrate(
      db,
      '0001_reshape.sql',
      `alter table profiles drop column nickname;
       drop table scratch;
       alter table badges add column level int not null default 1;
       alter table badges alter column level drop default;`,
    );
    const replayed = await engine.replayChanges(db, noHeartbeat);
    const copyKey = Number((await one(db, 'temporary', "select id from profiles where name = 'ann'")).id);
    expect(replayed.conflicts).toEqual([
      { table: 'public.profiles', key: { id: copyKey }, op: 'insert', reason: 'column "nickname" no longer exists on the original' },
      {
        table: 'public.tags',
        key: { code: 'red' },
        op: 'insert',
        reason: expect.stringMatching(/duplicate key value violates unique constraint "tags_pkey" \(SQLSTATE 23505\)/),
      },
      {
        table: 'public.badges',
        key: { id: 1 },
        op: 'insert',
        reason: expect.stringMatching(/null value in column "level" .* violates not-null constraint \(SQLSTATE 23502\)/),
      },
      { table: 'public.items', key: { id: 3 }, op: 'update', reason: 'the row no longer exists on the original' },
      { table: 'public.item_log', key: { id: 6 }, op: 'delete', reason: 'the row no longer exists on the original' },
      { table: 'public.scratch', key: { id: 1 }, op: 'insert', reason: 'the table no longer exists on the original' },
    ]);
    expect(replayed).toMatchObject({ applied: 4, conflictCount: 6, total: { applied: 4, conflicts: 6 } });
    // What fits is there: bob without a nickname (a null loses nothing), item_log of 5 deleted, the new item.
    expect(await count(db, 'original', "select 1 from profiles where name = 'bob'")).toBe(1);
    expect(await count(db, 'original', "select 1 from profiles where name = 'ann'")).toBe(0);
    expect(await count(db, 'original', 'select 1 from item_log where item_id = 5')).toBe(0);
    expect(await count(db, 'original', "select 1 from items where note = 'fits'")).toBe(1);
    expect(await one(db, 'original', "select label from tags where code = 'red'")).toEqual({ label: 'from the preview' });
    // Generated columns are computed again; an identity GENERATED ALWAYS keeps the copy's key.
    const events = 'select id, a, doubled from events';
    expect(await sql(db, 'original', events)).toEqual(await sql(db, 'temporary', events));
    expect(await one(db, 'original', 'select doubled from events')).toEqual({ doubled: 10 });
    // Kept whole in the original, the row too, for the operator.
    expect(await one(db, 'original', "select op, new_row from cutover_replay.conflicts where table_name = 'public.profiles'")).toEqual({
      op: 'insert',
      new_row: { id: copyKey, name: 'ann', nickname: 'annie' },
    });

    // Again: nothing applied twice, no conflict recorded twice.
    const again = await engine.replayChanges(db, noHeartbeat);
    expect(again).toMatchObject({ applied: 0, conflicts: [], conflictCount: 0, total: { applied: 4, conflicts: 6 } });
    expect(await count(db, 'original', "select 1 from items where note = 'fits'")).toBe(1);
    expect(await count(db, 'original', 'select * from cutover_replay.conflicts')).toBe(6);

    // Later changes (the final replay at the switch): only those. TRUNCATE … CASCADE comes back as one statement.
    await sql(db, 'temporary', "insert into items (note) values ('at the switch'); truncate badges; truncate owners cascade;");
    const last = await engine.replayChanges(db, noHeartbeat, { final: true });
    expect(last).toMatchObject({ applied: 4, conflictCount: 0, total: { applied: 8, conflicts: 6 } });
    expect(await count(db, 'original', "select 1 from items where note = 'at the switch'")).toBe(1);
    expect(await count(db, 'original', 'select 1 from owners union all select 1 from pets')).toBe(0);
  });

  test('a replay killed between changes resumes where it committed, without duplicates', async () => {
    const db = await capturing(20);
    const writes = Array.from({ length: 40 }, (_, i) => ctx.dialect.writeTransaction(`before ${i}`)).join('\n');
    await sql(db, 'temporary', `${writes} update items set note = 'held' where id = 7; ${writes.replaceAll('before', 'after')}`);
    const changes = await count(db, 'temporary', 'select * from cutover_capture.changes');
    expect(changes).toBe(40 * 3 * 2 + 1);

    // A session of the original holds item 7: replay stops at that change, mid-way, until killed.
    const holder = new pg.Client(engine.connectionStringFor(db, 'original'));
    await holder.connect();
    await holder.query('begin');
    await holder.query('select * from items where id = 7 for update');
    const killed = engine.replayChanges(db, noHeartbeat, { batchSize: 7 }).catch((error: unknown) => error);
    try {
      const waiting = "select pid from pg_stat_activity where application_name = 'cutover-replay' and wait_event_type = 'Lock'";
      await eventually('replay waits for item 7', async () => (await count(db, 'original', waiting)) === 1);
      const progress = Number((await one(db, 'original', 'select applied_up_to from cutover_replay.progress')).applied_up_to);
      expect(progress).toBeGreaterThan(0);
      expect(progress).toBeLessThan(changes);
      await sql(db, 'original', `select pg_terminate_backend(pid) from (${waiting}) w`);
      const error = await killed;
      expect(error).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ failureClass: 'transient' });
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.end();
    }

    const resumed = await engine.replayChanges(db, noHeartbeat, { batchSize: 7 });
    expect(resumed.conflicts).toEqual([]);
    expect(resumed.total).toEqual({ applied: changes, conflicts: 0 });
    expect(await one(db, 'original', ctx.dialect.consistency)).toEqual(await one(db, 'temporary', ctx.dialect.consistency));
    expect(await one(db, 'original', 'select note from items where id = 7')).toEqual({ note: 'held' });
  });

  test('a transaction still open on the copy holds replay back, named; once it commits, its earlier change is replayed too', async () => {
    const db = await capturing(5);
    const open = await ctx.connect(db, 'temporary');
    try {
      await open.query("begin; insert into items (note) values ('taken first, committed last')");
      await sql(db, 'temporary', "insert into items (note) values ('taken last, committed first')");
      const held = await engine.replayChanges(db, noHeartbeat, { writersTimeoutMs: 300 }).catch((error: unknown) => error);
      expect(held).toMatchObject({ failureClass: 'transient' });
      const heldWriters = /transactions on the temporary copy kept their captured writes uncommitted .*\(pid \d+ \S+ as \S+ since /;
      expect((held as Error).message).toMatch(heldWriters);
      expect(await count(db, 'original', "select 1 from items where note like 'taken%'")).toBe(0);
      await open.query('commit');
    } finally {
      await open.close();
    }
    expect(await engine.replayChanges(db, noHeartbeat)).toMatchObject({ applied: 2, conflictCount: 0 });
    expect(await count(db, 'original', "select 1 from items where note like 'taken%'")).toBe(2);
  });

  test('Reset with database roll-back: the restored original gets every change again, once', async () => {
    const db = await capturing(10);
    await sql(db, 'temporary', [1, 2, 3].map((i) => ctx.dialect.writeTransaction(`kept ${i}`)).join('\n'));
    await engine.createRestorePoint(db, noHeartbeat);
    await migrate(db, '0001_tagline.sql', "alter table items add column tagline text not null default 'none';");
    expect(await engine.replayChanges(db, noHeartbeat)).toMatchObject({ applied: 9, total: { applied: 9 } });
    await engine.restoreFromRestorePoint(db, noHeartbeat);
    await sql(db, 'temporary', ctx.dialect.writeTransaction('after the restore'));
    expect(await engine.replayChanges(db, noHeartbeat)).toMatchObject({ applied: 12, conflictCount: 0, total: { applied: 12 } });
    expect(await one(db, 'original', ctx.dialect.consistency)).toEqual(await one(db, 'temporary', ctx.dialect.consistency));
    await engine.dropRestorePoint(db);
  });

  test('replay without a capture is refused, saying what to do', async () => {
    const db = await ctx.createDatabase();
    handles.push(db);
    await sql(db, 'original', ctx.dialect.seed(2));
    await engine.copyToTemporary(db, noHeartbeat);
    await expect(engine.replayChanges(db, noHeartbeat)).rejects.toThrow(/captures no writes: start capture first/);
  });
});

test('a login that is not a superuser but owns its databases captures and replays (the copy is then a snapshot)', async () => {
  const app = await makePostgresContext({ role: 'application' });
  const db = await app.createDatabase();
  try {
    const seed = await app.connect(db, 'original');
    await seed.query(app.dialect.seed(5));
    await seed.close();
    expect((await app.engine.copyToTemporary(db, noHeartbeat)).following).toBe(false);
    expect(await app.engine.startCapture!(db)).toMatchObject({ tables: 3, sequencesMoved: 2 });
    const copy = await app.connect(db, 'temporary');
    await copy.query(app.dialect.writeTransaction('as the owner'));
    await copy.close();
    expect(await app.engine.replayChanges!(db, noHeartbeat, { final: true })).toMatchObject({ applied: 3, conflictCount: 0 });
    const original = await app.connect(db, 'original');
    expect(await original.query("select count(*)::int as n from items where note = 'as the owner'")).toEqual([{ n: 1 }]);
    await original.close();
  } finally {
    await app.dispose(db);
    await app.close();
  }
});

test('the SQL Server engine cannot capture writes (yet): the capability is absent, so the workflow can say so', () => {
  const sqlserver = createSqlServerEngine();
  expect(sqlserver.startCapture).toBeUndefined();
  expect(sqlserver.replayChanges).toBeUndefined();
});
