/**
 * Expand/contract mode end to end (real Temporal, PostgreSQL, router, agent and slots): no clone, writes never refused
 * and none lost through Complete or Reset; an expand migration that breaks the old version is refused before any traffic moves.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
beforeAll(async () => {
  // The breaking package's check waits out this warm-up timeout while the old version answers 503.
  stack = await startTestStack({ warmupTimeout: '10s' });
  await stack.deployAndComplete('examples/demo-app/v2');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

const get = (url: string) => fetch(url, { headers: { accept: 'application/json' } });
const columnsOfNotes = async () =>
  (
    await stack.sql<{ column_name: string; column_default: string | null }>(
      "select column_name, column_default from information_schema.columns where table_name = 'notes' order by ordinal_position",
    )
  ).map((r) => [r.column_name, r.column_default]);

describe('expand-contract mode', () => {
  test('Reset under a steady writer: the live version never stopped serving, no write refused or lost; the expand stays', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 2, writeEveryMs: 20 });
    const id = await stack.deploy('examples/demo-app/v3', 'expand-contract');
    await stack.waitForPhase(id, ['awaiting-verification']);
    // The database cannot go back without losing what v2 and v3 wrote since: a Reset with roll-back is refused, clearly.
    const refused = await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: true });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toMatch(/expand/);
    expect((await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: false })).status).toBe(200);
    await stack.waitForPhase(id, ['reset']);
    await new Promise((r) => setTimeout(r, 300));
    const report = await traffic.stop();

    expect(report.refusedWrites).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    expect(report.failedReads).toEqual([]);
    expect([...report.versions.keys()]).toEqual(['2.0.0']);
    const rows = await stack.sql<{ body: string; n: string }>(
      "select body, count(*) as n from notes where body like 'traffic-%' group by body",
    );
    const stored = new Map(rows.map((r) => [r.body, Number(r.n)]));
    expect(report.acceptedWrites.length).toBeGreaterThan(0);
    expect(report.acceptedWrites.filter((b) => stored.get(b) !== 1)).toEqual([]);
    expect(await columnsOfNotes()).toContainEqual(['title', null]);
    expect((await get(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
  }, 240_000);

  test('v2 keeps serving on the expanded schema, v3 beside it; through Complete no write is refused and every accepted one is kept', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 2, writeEveryMs: 20 });
    const id = await stack.deploy('examples/demo-app/v3', 'expand-contract');
    const awaiting = await stack.waitForPhase(id, ['awaiting-verification']);
    expect(awaiting.previousPackage.version).toBe('2.0.0');
    // No clone, no restore point: the live version serves the public on the expanded original, v3 previews beside it.
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
    const pub = await get(`${stack.publicUrl()}/notes`);
    expect(pub.headers.get('x-app-version')).toBe('2.0.0');
    expect(pub.headers.get('x-slot')).toMatch(/\.original$/);
    expect((await get(`${stack.previewUrl()}/notes`)).headers.get('x-app-version')).toBe('3.0.0');
    expect(await columnsOfNotes()).toContainEqual(['title', null]);
    expect(await stack.sql('select name, phase from cutover_migrations order by name')).toEqual([
      { name: '0001_create_notes.sql', phase: null },
      { name: '0002_add_author.sql', phase: null },
      { name: '0003_add_title.sql', phase: 'expand' },
    ]);
    const during = traffic.report.acceptedWrites.length;

    expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
    const done = await stack.waitForPhase(id, ['completed']);
    await stack.recordHistory(id, 'expand-contract');
    await new Promise((r) => setTimeout(r, 500));
    const report = await traffic.stop();

    expect(done.timings.map((t: { phase: string }) => t.phase)).toEqual([
      'preflight',
      'expand',
      'upgrade',
      'warmup',
      'awaiting-verification',
      'completing',
      'contract',
    ]);
    // Writes were never refused nor failed, before, during and after the switch; both versions took some.
    expect(report.refusedWrites).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    expect(report.failedReads).toEqual([]);
    expect(during).toBeGreaterThan(0);
    expect(report.acceptedWrites.length).toBeGreaterThan(during);
    expect([...report.versions.keys()].sort()).toEqual(['2.0.0', '3.0.0']);
    // Every accepted write is in the final database, once.
    const rows = await stack.sql<{ body: string; n: string }>(
      "select body, count(*) as n from notes where body like 'traffic-%' group by body",
    );
    const stored = new Map(rows.map((r) => [r.body, Number(r.n)]));
    expect(report.acceptedWrites.filter((b) => stored.get(b) !== 1)).toEqual([]);
    // Nothing else of this writer's (its bodies share the prefix up to the counter) is there either.
    const ofThisWriter = report.acceptedWrites[0]!.replace(/-\d+$/, '-');
    expect(rows.filter((r) => r.body.startsWith(ofThisWriter)).length).toBe(report.acceptedWrites.length);
    // The contract ran once v2 was gone: the author's default is gone, and v3 signs its notes itself.
    expect(await columnsOfNotes()).toContainEqual(['author', null]);
    expect((await stack.sql<{ phase: string }>("select phase from cutover_migrations where name = '0004_author_required.sql'"))[0]).toEqual(
      {
        phase: 'contract',
      },
    );
    expect(await stack.sql('select count(*)::int as n from notes where author is null')).toEqual([{ n: 0 }]);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('2.0.0 works on the expanded schema on site web');
    expect(log).toContain('2.0.0 stopped on every site: no old version runs');
    expect(log).not.toContain('maintenance mode');
  }, 240_000);

  test('an expand migration that breaks the old version: refused before any traffic moves, and undone', async () => {
    const before = await get(`${stack.publicUrl()}/notes`);
    const liveSlot = before.headers.get('x-slot');
    expect(before.headers.get('x-app-version')).toBe('3.0.0');
    const id = await stack.deploy('examples/faulty/expand-breaks-old-version', 'expand-contract');
    const failed = await stack.waitForPhase(id, ['failed'], 120_000);
    await stack.recordHistory(id, 'expand-contract-refused');
    expect(failed.failure).toMatchObject({
      class: 'migration-failed',
      message: expect.stringMatching(
        /^the old version 3\.0\.0 does not work on the expanded schema: .*HTTP 503: .*column \\"body\\" does not exist/s,
      ),
      remediation: expect.stringMatching(/^No traffic moved and the expand migrations were undone/),
    });
    expect(failed.actions).toEqual([]);
    // Nothing moved: the same v3 slot serves, on the schema as it was; nothing of the new package ran beside it.
    const after = await get(`${stack.publicUrl()}/notes`);
    expect(after.status).toBe(200);
    expect(after.headers.get('x-slot')).toBe(liveSlot);
    expect(await columnsOfNotes()).toContainEqual(['body', null]);
    expect((await stack.sql<{ name: string }>('select name from cutover_migrations order by name')).map((r) => r.name)).toEqual([
      '0001_create_notes.sql',
      '0002_add_author.sql',
      '0003_add_title.sql',
      '0004_author_required.sql',
    ]);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('Undid the expand migrations of app: 0005_rename_body_to_text.sql');
    expect(log).toContain('No traffic moved: the live version still serves every site.');
    expect(log).not.toContain('Starting 3.0.1-expand-breaks-old-version');
    const env = await stack.api('GET', `/v1/environments/${stack.environment}`);
    expect(env.body).toMatchObject({ inMaintenance: false, livePackage: { version: '3.0.0' } });
  }, 180_000);
});
