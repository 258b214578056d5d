/**
 * A temporary copy that keeps up with its original until the switch (issue 13), against the run's real PostgreSQL:
 * what it receives while following, what it holds once stopped, what a crash leaves and a retry does, what is left
 * on the server afterwards, and the snapshot it falls back to when the server cannot follow.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { dropDatabasesLike, startPostgresCluster } from '../../src/devtools/postgres-cluster.js';
import type { DatabaseHandle } from '../../src/engines/engine.js';
import { createPostgresEngine } from '../../src/engines/postgres.js';
import { followSlotName } from '../../src/engines/postgres/follow.js';
import type { EngineContractContext } from './contract.js';
import { makePostgresContext } from './postgres-context.js';

const noHeartbeat = () => undefined;
const READ_ONLY = '25006';

let ctx: EngineContractContext;
let admin: pg.Client;
const handles: DatabaseHandle[] = [];

beforeAll(async () => {
  ctx = await makePostgresContext({ role: 'superuser' });
  admin = new pg.Client(inject('pgAdminUrl'));
  await admin.connect();
});
afterAll(async () => {
  for (const db of handles) await ctx.engine.dropTemporary(db).catch(() => undefined);
  for (const db of handles) await ctx.dispose(db);
  await ctx.close();
  await admin.end();
});

const originalOf = (db: DatabaseHandle) => decodeURIComponent(new URL(db.connectionString).pathname.slice(1));

/** A superuser session on one physical database of the handle (the original, or the copy with the suffix). */
async function asAdmin<T>(database: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${encodeURIComponent(database)}`;
  const client = new pg.Client(url.toString());
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

const sql = (db: DatabaseHandle, role: 'original' | 'temporary', text: string) =>
  asAdmin(originalOf(db) + (role === 'temporary' ? '__cutover_tmp' : ''), async (c) => {
    const result = await c.query(text);
    const last = Array.isArray(result) ? (result as pg.QueryResult[]).at(-1) : result;
    return (last?.rows ?? []) as Record<string, unknown>[];
  });

async function seeded(rows: number, extra = ''): Promise<DatabaseHandle> {
  const db = await ctx.createDatabase();
  handles.push(db);
  await sql(db, 'original', ctx.dialect.seed(rows) + extra);
  return db;
}

/** Every row of a table, in key order, as one digest: equal digests mean equal content. */
const digestOf = (table: string) =>
  `select count(*)::int as rows, md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as digest from ${table} t`;

async function contentOf(db: DatabaseHandle, role: 'original' | 'temporary', tables: string[]) {
  const out: Record<string, unknown> = {};
  for (const table of tables) out[table] = (await sql(db, role, digestOf(table)))[0];
  return out;
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await check()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What makes a copy follow, as the server shows it: the slot, the publication, the subscription. */
async function followingLeftovers(db: DatabaseHandle) {
  const original = originalOf(db);
  const slots = await admin.query('select slot_name, active from pg_replication_slots where slot_name = $1', [followSlotName(original)]);
  const subscriptions = await admin.query(
    'select s.subname from pg_subscription s join pg_database d on d.oid = s.subdbid where d.datname = any($1::text[])',
    [[`${original}__cutover_tmp`, `${original}__cutover_tmp_partial`]],
  );
  const publications = await asAdmin(original, (c) => c.query("select pubname from pg_publication where pubname like 'cutover%'"));
  return { slots: slots.rowCount, subscriptions: subscriptions.rowCount, publications: publications.rowCount };
}

const NONE = { slots: 0, subscriptions: 0, publications: 0 };
const FOLLOWING = { slots: 1, subscriptions: 1, publications: 1 };

/** The audit trigger: on the copy it must not fire for replicated rows, or every audit row would be there twice. */
const AUDITED = `
  create table audit (id bigserial primary key, item_id bigint not null);
  create function audit_item() returns trigger language plpgsql as $$ begin insert into audit (item_id) values (new.id); return new; end $$;
  create trigger audit_item after insert on items for each row execute function audit_item();
  create table scratch (id int primary key, v text);
  insert into scratch select g, 'before' from generate_series(1, 10) g;`;

describe('a copy that follows its original', () => {
  test('a read-only copy receives every insert, update, delete and truncate while following, and refuses the application', async () => {
    const db = await seeded(50, AUDITED);
    const copied = await ctx.engine.copyToTemporary(db, noHeartbeat);
    expect(copied).toEqual({ following: true });
    await ctx.engine.makeTemporaryReadOnly(db);
    expect((await ctx.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: true, following: true });
    expect(await followingLeftovers(db)).toEqual(FOLLOWING);

    for (let i = 0; i < 3; i++) await sql(db, 'original', ctx.dialect.writeTransaction(`after the copy ${i}`));
    await sql(
      db,
      'original',
      `update items set note = 'changed' where id <= 5; delete from item_log where id = 10;
                              truncate scratch; insert into scratch values (1, 'after the truncate')`,
    );
    const tables = ['items', 'item_log', 'counters', 'audit', 'scratch'];
    const expected = await contentOf(db, 'original', tables);
    const tookMs = await eventually(
      "the copy has the original's writes",
      async () => JSON.stringify(await contentOf(db, 'temporary', tables)) === JSON.stringify(expected),
    );
    expect(tookMs, 'time for the writes to reach the copy (ms)').toBeLessThan(15_000);
    // One audit row per item written after the copy: the copy's own trigger did not fire for the replicated items.
    expect((await sql(db, 'temporary', 'select count(*)::int as n from audit'))[0]?.n).toBe(3);

    // The application still cannot write, whatever its session says (this login could even set session_replication_role).
    const escapes = [...ctx.dialect.readOnlyEscapes, 'set session_replication_role = replica'];
    for (const [operation, write] of Object.entries(ctx.dialect.writes)) {
      const session = await ctx.connect(db, 'temporary');
      try {
        for (const escape of escapes) await session.query(escape);
        const refused = await session.query(write).then(
          () => undefined,
          (error: unknown) => error as { code?: string; message: string },
        );
        expect(refused?.code, `${operation}: ${refused?.message}`).toBe(READ_ONLY);
      } finally {
        await session.close();
      }
    }
    // ...and the copy keeps following after those refusals.
    await sql(db, 'original', ctx.dialect.writeTransaction('after the refusals'));
    await eventually(
      'the copy has the write made after the refusals',
      async () => (await sql(db, 'temporary', "select count(*)::int as n from items where note = 'after the refusals'"))[0]?.n === 1,
    );
  });

  test('stopped under a steady writer: every write committed before the stop is on the copy, nothing after, sequences level', async () => {
    const db = await seeded(200);
    expect((await ctx.engine.copyToTemporary(db, noHeartbeat)).following).toBe(true);
    const writer = await ctx.connect(db, 'original');
    let committed = 0;
    let writing = true;
    const failures: unknown[] = [];
    const loop = (async () => {
      while (writing) {
        try {
          await writer.query(ctx.dialect.writeTransaction(`steady ${committed}`));
          committed++;
        } catch (error) {
          failures.push(error);
        }
      }
    })();
    let stopped;
    let committedBeforeStop: number;
    let sequenceBeforeStop: number;
    try {
      await eventually('the writer has committed some writes', async () => committed > 20);
      committedBeforeStop = committed;
      sequenceBeforeStop = Number(
        (await sql(db, 'original', "select last_value from pg_sequences where sequencename = 'items_id_seq'"))[0]?.last_value,
      );
      stopped = await ctx.engine.stopFollowing(db, noHeartbeat, { timeoutMs: 30_000 });
      const atStop = await sql(db, 'temporary', 'select count(*)::int as n from items');
      // Writes go on; the copy no longer changes.
      const later = committed;
      await eventually('more writes after the stop', async () => committed > later + 20);
      await new Promise((r) => setTimeout(r, 1_000));
      expect(await sql(db, 'temporary', 'select count(*)::int as n from items')).toEqual(atStop);
    } finally {
      writing = false;
      await loop;
      await writer.close();
    }
    expect(failures).toEqual([]);
    expect(stopped).toMatchObject({ wasFollowing: true, caughtUp: true, lagBytes: 0 });
    expect(stopped?.sequencesSynced).toBe(2); // items and item_log
    expect(await followingLeftovers(db)).toEqual(NONE);
    expect((await ctx.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: false, following: false });

    // Every write committed before the stop is there, whole (items, its log row and the counter in one transaction).
    const [copy] = await sql(db, 'temporary', ctx.dialect.consistency);
    expect(Number(copy?.counter)).toBeGreaterThanOrEqual(committedBeforeStop);
    expect(Number(copy?.items)).toBe(200 + Number(copy?.counter));
    expect(Number(copy?.logs)).toBe(Number(copy?.items));
    expect(Number(copy?.orphans)).toBe(0);
    // Same content as the original's rows up to the copy's newest key.
    const upTo = Number((await sql(db, 'temporary', 'select max(id) as id from items'))[0]?.id);
    expect(await sql(db, 'temporary', `select md5(string_agg(i::text, '|' order by id)) as d from items i where id <= ${upTo}`)).toEqual(
      await sql(db, 'original', `select md5(string_agg(i::text, '|' order by id)) as d from items i where id <= ${upTo}`),
    );
    // Sequences: at least where the original's were when the stop began, so a key made on the copy is new.
    const copySequence = Number(
      (await sql(db, 'temporary', "select last_value from pg_sequences where sequencename = 'items_id_seq'"))[0]?.last_value,
    );
    expect(copySequence).toBeGreaterThanOrEqual(sequenceBeforeStop);
    expect(copySequence).toBeGreaterThanOrEqual(upTo);
    await sql(db, 'temporary', ctx.dialect.insertUsingGenerator);
  });

  test('a write committed asynchronously just before the stop is on the copy', async () => {
    for (let round = 0; round < 3; round++) {
      const db = await seeded(5);
      await ctx.engine.copyToTemporary(db, noHeartbeat);
      // The copy is idle and caught up: the slot confirms everything written out so far.
      await eventually(
        'the copy is caught up',
        async () =>
          (
            await admin.query(
              'select 1 from pg_replication_slots where slot_name = $1 and active and confirmed_flush_lsn >= pg_current_wal_lsn()',
              [followSlotName(originalOf(db))],
            )
          ).rowCount === 1,
      );
      await sql(db, 'original', `set synchronous_commit = off; ${ctx.dialect.writeTransaction('just before the stop')}`);
      expect(await ctx.engine.stopFollowing(db, noHeartbeat)).toMatchObject({ wasFollowing: true, caughtUp: true });
      expect(await sql(db, 'temporary', 'select count(*)::int as n from items'), `round ${round}`).toEqual([{ n: 6 }]);
    }
  });

  test('a restore point taken while the copy follows ends the following first, with every write on the copy', async () => {
    const db = await seeded(12);
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    await ctx.engine.makeTemporaryReadOnly(db);
    await sql(db, 'original', ctx.dialect.writeTransaction('before the restore point'));
    await ctx.engine.createRestorePoint(db, noHeartbeat);
    expect(await followingLeftovers(db)).toEqual(NONE);
    expect(await sql(db, 'temporary', 'select count(*)::int as n from items')).toEqual([{ n: 13 }]);
    expect((await ctx.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: true, following: false });
    // Neither the restore point nor a restore brings the publication back.
    await ctx.engine.restoreFromRestorePoint(db, noHeartbeat);
    expect(await followingLeftovers(db)).toEqual(NONE);
    await ctx.engine.dropRestorePoint(db);
  });

  test('dropping the copy, following or stopped, leaves no slot, publication or subscription', async () => {
    const following = await seeded(10);
    await ctx.engine.copyToTemporary(following, noHeartbeat);
    await ctx.engine.makeTemporaryReadOnly(following);
    await eventually(
      'the slot is in use',
      async () =>
        (await admin.query('select 1 from pg_replication_slots where slot_name = $1 and active', [followSlotName(originalOf(following))]))
          .rowCount === 1,
    );
    await ctx.engine.dropTemporary(following);
    expect(await followingLeftovers(following)).toEqual(NONE);
    expect(await ctx.databasesOf(following)).toEqual(['original']);
    await ctx.engine.dropTemporary(following);

    const stopped = await seeded(10);
    await ctx.engine.copyToTemporary(stopped, noHeartbeat);
    await ctx.engine.stopFollowing(stopped, noHeartbeat);
    expect(await followingLeftovers(stopped)).toEqual(NONE);
    await ctx.engine.dropTemporary(stopped);
    expect(await ctx.databasesOf(stopped)).toEqual(['original']);
    // The originals can be dropped: no logical slot is tied to them.
    for (const db of [following, stopped]) await admin.query(`drop database ${pg.escapeIdentifier(originalOf(db))}`);
    handles.splice(handles.indexOf(following), 1);
    handles.splice(handles.indexOf(stopped), 1);
  });

  test('a test or demo teardown drops a following read-only copy and its original', async () => {
    const db = await seeded(6);
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    await ctx.engine.makeTemporaryReadOnly(db);
    await dropDatabasesLike(inject('pgAdminUrl'), originalOf(db));
    expect(await ctx.databasesOf(db)).toEqual([]);
    expect((await admin.query('select 1 from pg_replication_slots where slot_name = $1', [followSlotName(originalOf(db))])).rowCount).toBe(
      0,
    );
    handles.splice(handles.indexOf(db), 1);
  });

  test('a copy retried after a crash carries on following, with the writes made meanwhile', async () => {
    const db = await seeded(30);
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    // The crash between the rename and the start of the subscription leaves it disabled.
    await sql(db, 'temporary', 'alter subscription cutover_follow disable');
    await eventually(
      'the slot is released',
      async () =>
        (await admin.query('select 1 from pg_replication_slots where slot_name = $1 and not active', [followSlotName(originalOf(db))]))
          .rowCount === 1,
    );
    expect((await ctx.engine.inspect(db)).temporary.following).toBe(false);
    await sql(db, 'original', ctx.dialect.writeTransaction('while the worker was down'));
    expect(await ctx.engine.copyToTemporary(db, noHeartbeat)).toEqual({ following: true });
    expect(await ctx.engine.copyToTemporary(db, noHeartbeat)).toEqual({ following: true });
    await eventually(
      'the copy has the write made meanwhile',
      async () => (await sql(db, 'temporary', 'select count(*)::int as n from items'))[0]?.n === 31,
    );
    expect(await followingLeftovers(db)).toEqual(FOLLOWING);
  });

  test('a copy interrupted mid-way leaves a slot and a publication: the retry removes them and starts afresh', async () => {
    const db = await seeded(40);
    await sql(db, 'original', 'create publication cutover_follow for all tables');
    await admin.query("select pg_create_logical_replication_slot($1, 'pgoutput')", [followSlotName(originalOf(db))]);
    await ctx.simulateInterruptedCopy(db);
    await sql(db, 'original', ctx.dialect.writeTransaction('before the retry'));
    expect(await ctx.engine.copyToTemporary(db, noHeartbeat)).toEqual({ following: true });
    expect(await ctx.databasesOf(db)).toEqual(['original', 'temporary']);
    expect(await followingLeftovers(db)).toEqual(FOLLOWING);
    await sql(db, 'original', ctx.dialect.writeTransaction('after the retry'));
    await eventually('the copy follows', async () => (await sql(db, 'temporary', 'select count(*)::int as n from items'))[0]?.n === 42);
  });

  test('a copy that fails half-way removes the slot and publication it made', async () => {
    const db = await seeded(8);
    const broken = createPostgresEngine({ binDir: '/nonexistent/postgresql/bin' });
    await expect(broken.copyToTemporary(db, noHeartbeat)).rejects.toThrow(/PostgreSQL client tool not found/);
    expect(await followingLeftovers(db)).toEqual(NONE);
    expect(await ctx.databasesOf(db)).toEqual(['original']);
  });

  test('a stop interrupted after the subscription ended: the retry drops the slot, and a retried copy does not follow again', async () => {
    const db = await seeded(15);
    await ctx.engine.copyToTemporary(db, noHeartbeat);
    await sql(
      db,
      'temporary',
      `alter subscription cutover_follow disable; alter subscription cutover_follow set (slot_name = none);
                               drop subscription cutover_follow`,
    );
    expect(await followingLeftovers(db)).toEqual({ slots: 1, subscriptions: 0, publications: 1 });
    const retried = await ctx.engine.copyToTemporary(db, noHeartbeat);
    expect(retried).toMatchObject({ following: false, snapshotReason: expect.stringMatching(/existed already/) });
    expect(await followingLeftovers(db)).toEqual(NONE);
    expect(await ctx.engine.stopFollowing(db, noHeartbeat)).toMatchObject({ wasFollowing: false });
  });

  test('tables without a primary key are reported and not followed; the live application can still update and delete them', async () => {
    const db = await seeded(
      5,
      `
      create table notes (body text);
      insert into notes values ('one'), ('two');
      create unlogged table cache (id int primary key, v text);
      create table keyed_by_full (v text); alter table keyed_by_full replica identity full; insert into keyed_by_full values ('a');`,
    );
    const copied = await ctx.engine.copyToTemporary(db, noHeartbeat);
    expect(copied).toEqual({
      following: true,
      notFollowed: ['public.cache (unlogged)', 'public.notes (no primary key or replica identity)'],
    });
    await sql(
      db,
      'original',
      `update notes set body = 'changed'; delete from notes where body = 'changed';
                               update keyed_by_full set v = 'b'; insert into cache values (1, 'x')`,
    );
    await sql(db, 'original', ctx.dialect.writeTransaction('followed'));
    await eventually(
      'followed tables follow',
      async () => (await sql(db, 'temporary', 'select count(*)::int as n from items'))[0]?.n === 6,
    );
    expect(await sql(db, 'temporary', 'select v from keyed_by_full')).toEqual([{ v: 'b' }]);
    expect(await sql(db, 'temporary', 'select body from notes order by body')).toEqual([{ body: 'one' }, { body: 'two' }]);
  });
});

describe('when the copy cannot follow, it is a snapshot that says why', () => {
  test('a login that is not a superuser: a snapshot, named, and nothing left behind', async () => {
    const app = await makePostgresContext({ role: 'application' });
    const db = await app.createDatabase();
    try {
      await app.connect(db, 'original').then(async (s) => {
        await s.query(app.dialect.seed(5));
        await s.close();
      });
      const copied = await app.engine.copyToTemporary(db, noHeartbeat);
      expect(copied.following).toBe(false);
      expect(copied.snapshotReason).toMatch(/SHOP_DATABASE_URL is not a superuser/);
      expect(await followingLeftovers(db)).toEqual(NONE);
      expect(await app.engine.stopFollowing(db, noHeartbeat)).toMatchObject({ wasFollowing: false, caughtUp: false });
      await app.engine.dropTemporary(db);
    } finally {
      await app.dispose(db);
      await app.close();
    }
  });

  test('a transaction held open on the server: the copy gives up following in time, names it, and is a complete snapshot', async () => {
    const engine = createPostgresEngine({ binDir: inject('pgBinDir'), followStartTimeoutMs: 1_500 });
    const db = await seeded(25);
    const holder = await ctx.connect(db, 'original');
    try {
      await holder.query('begin');
      await holder.query('select txid_current()');
      const copied = await engine.copyToTemporary(db, noHeartbeat);
      expect(copied.following).toBe(false);
      expect(copied.snapshotReason).toMatch(
        /transactions open on the server kept the copy from starting to follow within 2 s \(pid \d+ cutover-test as/,
      );
      expect(await followingLeftovers(db)).toEqual(NONE);
      expect(await sql(db, 'temporary', 'select count(*)::int as n from items')).toEqual([{ n: 25 }]);
    } finally {
      await holder.query('rollback').catch(() => undefined);
      await holder.close();
    }
  });

  test('a server without wal_level=logical: a snapshot, and the log says what to change', async () => {
    const cluster = await startPostgresCluster({ binDir: inject('pgBinDir'), settings: { wal_level: 'replica' } });
    try {
      const server = new pg.Client(cluster.adminUrl);
      await server.connect();
      await server.query('create database shop');
      await server.end();
      const db: DatabaseHandle = {
        config: { name: 'shop', engine: 'postgres', connectionEnv: 'SHOP_DATABASE_URL' },
        connectionString: cluster.urlFor('shop'),
      };
      const copied = await ctx.engine.copyToTemporary(db, noHeartbeat);
      expect(copied).toEqual({
        following: false,
        snapshotReason: expect.stringMatching(/wal_level=replica; following needs wal_level=logical/),
      });
      expect((await ctx.engine.inspect(db)).temporary).toEqual({ exists: true, readOnly: false, following: false });
      expect(await ctx.engine.stopFollowing(db, noHeartbeat)).toMatchObject({ wasFollowing: false });
      await ctx.engine.dropTemporary(db);
    } finally {
      await cluster.stop();
    }
  });
});
