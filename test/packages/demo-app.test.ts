import { readdir, readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { startApp, stopAllApps, waitForHttp, type AppProcess } from './support/app-process.js';
import { createDatabase, type TestDatabase } from './support/database.js';

const demoDir = join(import.meta.dirname, '../../examples/demo-app');
const v1 = join(demoDir, 'v1');
const v2 = join(demoDir, 'v2');
const READ_ONLY_MESSAGE = 'The site is read-only during a deployment; your change was not saved. Try again in a few minutes.';

/** Applies a package's migrations in name order, as the engine will. */
async function migrate(db: TestDatabase, packageDir: string): Promise<void> {
  const folder = join(packageDir, 'migrations');
  for (const name of (await readdir(folder)).sort()) await db.run(await readFile(join(folder, name), 'utf8'));
}

function postNote(app: AppProcess, note: unknown): Promise<Response> {
  return fetch(`${app.url}/notes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(note) });
}

const databases: TestDatabase[] = [];
async function database(prefix: string): Promise<TestDatabase> {
  const db = await createDatabase(inject('pgAdminUrl'), prefix);
  databases.push(db);
  return db;
}

afterAll(async () => {
  await stopAllApps();
  await Promise.all(databases.map((db) => db.drop()));
});

test('the demo packages are what the docs say: same 0001 migration, v2 adds the author', async () => {
  const manifest = async (dir: string) => JSON.parse(await readFile(join(dir, 'cutover-package.json'), 'utf8')) as Record<string, unknown>;
  expect(await manifest(v1)).toMatchObject({ name: 'demo-app', version: '1.0.0', start: ['node', 'server.cjs'], warmupPath: '/healthz' });
  expect(await manifest(v2)).toMatchObject({ name: 'demo-app', version: '2.0.0', start: ['node', 'server.cjs'], warmupPath: '/healthz' });
  expect(await readdir(join(v1, 'migrations'))).toEqual(['0001_create_notes.sql']);
  expect(await readdir(join(v2, 'migrations'))).toEqual(['0001_create_notes.sql', '0002_add_author.sql']);
  const first = (dir: string) => readFile(join(dir, 'migrations/0001_create_notes.sql'));
  expect((await first(v1)).equals(await first(v2))).toBe(true);
});

describe('demo app v1 on a writable database, then on a read-only one', () => {
  let db: TestDatabase;
  let app: AppProcess;

  beforeAll(async () => {
    db = await database('demo_v1');
    await migrate(db, v1);
    app = await startApp(v1, { DATABASE_URL: db.url, CUTOVER_SLOT: 'live-a' });
    await waitForHttp(app);
  });

  test('healthz answers 200 with the version, and every response names version and slot', async () => {
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ ok: true, version: '1.0.0' });
    for (const path of ['/healthz', '/', '/notes', '/nowhere']) {
      const response = await fetch(app.url + path);
      expect(response.headers.get('x-app-version'), path).toBe('1.0.0');
      expect(response.headers.get('x-slot'), path).toBe('live-a');
    }
    expect((await fetch(`${app.url}/nowhere`)).status).toBe(404);
  });

  test('a posted note is stored and listed, in JSON and on the page (escaped)', async () => {
    const created = await postNote(app, { body: 'Hello <b>zero downtime</b>' });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as { id: number };
    expect(id).toBeGreaterThan(0);
    expect((await db.run('SELECT body FROM notes WHERE id = $1', [id])).rows).toEqual([{ body: 'Hello <b>zero downtime</b>' }]);

    const list = await fetch(`${app.url}/notes`);
    const json = (await list.json()) as { version: string; slot: string; notes: { id: number; body: string; createdAt: string }[] };
    expect(json.version).toBe('1.0.0');
    expect(json.slot).toBe('live-a');
    expect(json.notes[0]).toMatchObject({ id, body: 'Hello <b>zero downtime</b>' });
    expect(Number.isNaN(Date.parse(json.notes[0]?.createdAt ?? ''))).toBe(false);

    const page = await fetch(`${app.url}/`);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).toContain('Hello &lt;b&gt;zero downtime&lt;/b&gt;');
    expect(html).toContain('Version 1.0.0');
  });

  test('invalid notes get 400 naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{}, /^body: is required$/],
      [{ body: 42 }, /^body: must be a string$/],
      [{ body: '   ' }, /^body: must not be empty$/],
      [{ body: 'x'.repeat(1001) }, /^body: must be at most 1000 characters$/],
    ];
    for (const [note, message] of cases) {
      const response = await postNote(app, note);
      expect(response.status).toBe(400);
      const json = (await response.json()) as { field: string; message: string };
      expect(json.field).toBe('body');
      expect(json.message).toMatch(message);
    }
    const notJson = await fetch(`${app.url}/notes`, { method: 'POST', body: 'body=hi' });
    expect(notJson.status).toBe(400);
    expect((await fetch(`${app.url}/notes`, { method: 'DELETE' })).status).toBe(405);
  });

  test('SIGTERM: an in-flight request still completes, then the process exits 0', async () => {
    const payload = JSON.stringify({ body: 'sent across a shutdown' });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(
        `${app.url}/notes`,
        { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': payload.length } },
        (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on('error', reject);
      req.write(payload.slice(0, 10));
      setTimeout(() => {
        app.child.kill('SIGTERM');
        setTimeout(() => req.end(payload.slice(10)), 300);
      }, 300);
    });
    const { status, body } = await response;
    expect(status).toBe(201);
    expect(JSON.parse(body)).toHaveProperty('id');
    expect(await app.exited).toBe(0);
    expect(app.output()).toContain('SIGTERM');
  });

  test('on a read-only database: writes get 503 with the read-only message, reads still work', async () => {
    await db.makeReadOnly();
    const clone = await startApp(v1, { DATABASE_URL: db.url, CUTOVER_SLOT: 'clone-a', CUTOVER_READONLY: '1' });
    const health = await waitForHttp(clone);
    expect(health.status).toBe(200);

    const refused = await postNote(clone, { body: 'lost?' });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect(refused.headers.get('x-slot')).toBe('clone-a');
    expect(await refused.json()).toEqual({ error: 'read-only', message: READ_ONLY_MESSAGE });

    const list = (await (await fetch(`${clone.url}/notes`)).json()) as { slot: string; notes: { body: string }[] };
    expect(list.slot).toBe('clone-a');
    expect(list.notes.map((n) => n.body)).toEqual(['sent across a shutdown', 'Hello <b>zero downtime</b>']);
    expect(await (await fetch(`${clone.url}/`)).text()).toContain('the site is read-only');
    expect((await db.run('SELECT count(*)::int AS n FROM notes')).rows[0]).toEqual({ n: 2 });

    expect(await clone.stop()).toBe(0);
  });
});

describe('demo app v2', () => {
  test('stores and shows authors, anonymous by default', async () => {
    const db = await database('demo_v2');
    await migrate(db, v2);
    const app = await startApp(v2, { DATABASE_URL: db.url, CUTOVER_SLOT: 'preview' });
    expect(await (await waitForHttp(app)).json()).toEqual({ ok: true, version: '2.0.0' });

    expect((await postNote(app, { body: 'signed', author: 'Ada' })).status).toBe(201);
    expect((await postNote(app, { body: 'unsigned' })).status).toBe(201);
    const tooLong = await postNote(app, { body: 'x', author: 'a'.repeat(101) });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { message: string }).message).toBe('author: must be at most 100 characters');

    const response = await fetch(`${app.url}/notes`);
    expect(response.headers.get('x-app-version')).toBe('2.0.0');
    const { notes } = (await response.json()) as { notes: { body: string; author: string }[] };
    expect(notes.map((n) => [n.body, n.author])).toEqual([
      ['unsigned', 'anonymous'],
      ['signed', 'Ada'],
    ]);
    expect(await (await fetch(`${app.url}/`)).text()).toContain('by Ada');
    expect(await app.stop()).toBe(0);
  });

  test('v1 still works on the v2 schema ("roll back code only")', async () => {
    const db = await database('demo_v1_on_v2');
    await migrate(db, v2);
    const app = await startApp(v1, { DATABASE_URL: db.url, CUTOVER_SLOT: 'rollback' });
    await waitForHttp(app);
    expect((await postNote(app, { body: 'from v1' })).status).toBe(201);
    expect((await db.run('SELECT body, author FROM notes')).rows).toEqual([{ body: 'from v1', author: 'anonymous' }]);
    expect(await app.stop()).toBe(0);
  });

  test('healthz answers 503, and the app keeps running, when the database goes away', async () => {
    const db = await database('demo_gone');
    await migrate(db, v2);
    const app = await startApp(v2, { DATABASE_URL: db.url, CUTOVER_SLOT: 'live-b' });
    expect((await waitForHttp(app)).status).toBe(200);
    await db.drop();
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(503);
    expect(health.headers.get('x-app-version')).toBe('2.0.0');
    expect((await postNote(app, { body: 'nowhere to go' })).status).toBe(503);
    expect(app.child.exitCode).toBeNull();
    expect(await app.stop()).toBe(0);
  });
});
