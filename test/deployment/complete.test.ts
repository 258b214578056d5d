import pg from 'pg';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
beforeAll(async () => {
  // A password in the connection string: it must reach neither history nor logs (trust auth ignores it).
  stack = await startTestStack();
});
afterAll(async () => {
  await stack?.close();
});

const get = (url: string) => fetch(url, { headers: { accept: 'application/json' } });

describe('smooth deployment, Complete path', () => {
  test('v1 goes live on an empty environment, then v2 replaces it through a read-only clone', async () => {
    const v1 = await stack.deploy('examples/demo-app/v1');
    const awaiting1 = await stack.waitForPhase(v1, ['awaiting-verification']);
    expect(awaiting1.previousPackage).toBeNull();
    expect(awaiting1.actions).toEqual(['complete', 'reset']);
    expect((await stack.api('POST', `/v1/deployments/${v1}/complete`, {})).status).toBe(200);
    await stack.waitForPhase(v1, ['completed']);

    const live = await get(`${stack.publicUrl()}/notes`);
    expect(live.status).toBe(200);
    expect(live.headers.get('x-app-version')).toBe('1.0.0');
    const written = await fetch(`${stack.publicUrl()}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'before v2' }),
    });
    expect(written.status).toBe(201);

    const traffic = startTraffic(stack.publicUrl(), { readers: 4 });
    const v2 = await stack.deploy('examples/demo-app/v2', 'readonly');
    const awaiting2 = await stack.waitForPhase(v2, ['awaiting-verification']);
    expect(awaiting2.previousPackage.version).toBe('1.0.0');
    // The clone (v1, read-only temporary database) serves the public; the preview runs v2 on the migrated original.
    const pub = await get(`${stack.publicUrl()}/notes`);
    expect(pub.headers.get('x-app-version')).toBe('1.0.0');
    expect(pub.headers.get('x-slot')).toMatch(/\.temporary$/);
    expect(pub.status).toBe(200);
    // The copy followed the original until traffic moved: every write accepted before then is on it.
    const onClone = new Set((await cloneRows()).map((r) => r.body));
    expect(onClone.has('before v2')).toBe(true);
    expect(traffic.report.acceptedWrites.filter((b) => !onClone.has(b))).toEqual([]);
    const refused = await fetch(`${stack.publicUrl()}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'during' }),
    });
    expect(refused.status).toBe(503);
    expect(((await refused.json()) as any).message).toMatch(/read-only during a deployment/);
    const preview = await get(`${stack.previewUrl()}/notes`);
    expect(preview.headers.get('x-app-version')).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual(
      expect.arrayContaining([`${stack.environment}_app__cutover_tmp`, `${stack.environment}_app__cutover_rp`]),
    );

    const log = await stack.api('GET', `/v1/deployments/${v2}/log`);
    expect(log.text).toContain('Enabling zero downtime deployment mode readonly on site web');
    expect(log.text).toContain('All sites in this deployment are now in maintenance mode');

    expect((await stack.api('POST', `/v1/deployments/${v2}/complete`, {})).status).toBe(200);
    const done = await stack.waitForPhase(v2, ['completed']);
    await stack.recordHistory(v2, 'complete');
    await stack.recordHistory(`environment-${stack.environment}`, 'environment');
    const passwords = Object.values(stack.env).flatMap((v) =>
      v && /^postgres(ql)?:\/\//.test(v) ? [decodeURIComponent(new URL(v).password)] : [],
    );
    expect(passwords.filter(Boolean).length).toBeGreaterThan(0);
    for (const id of [v1, v2]) {
      const history = JSON.stringify(await stack.client.workflow.getHandle(id).fetchHistory());
      for (const password of passwords.filter(Boolean)) expect(history).not.toContain(password);
    }
    expect(done.actions).toEqual([]);
    await new Promise((r) => setTimeout(r, 500));
    const report = await traffic.stop();
    // Not one read failed for the whole deployment; every write was either saved or clearly refused.
    expect(report.reads).toBeGreaterThan(100);
    expect(report.failedReads).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    expect(report.refusedWrites.length).toBeGreaterThan(0);
    expect(report.versions.get('1.0.0')).toBeGreaterThan(0);
    expect(report.versions.get('2.0.0')).toBeGreaterThan(0);
    const stored = new Set((await stack.sql<{ body: string }>('select body from notes')).map((r) => r.body));
    expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
    const after = await get(`${stack.publicUrl()}/notes`);
    expect(after.headers.get('x-app-version')).toBe('2.0.0');
    expect(after.headers.get('x-slot')).toMatch(/\.original$/);
    const columns = await stack.sql<{ column_name: string }>(
      "select column_name from information_schema.columns where table_name = 'notes'",
    );
    expect(columns.map((c) => c.column_name)).toContain('author');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
    expect((await stack.sql<{ body: string }>('select body from notes order by id limit 1')).map((r) => r.body)).toEqual(['before v2']);

    // Complete twice, or Reset after Complete: refused, naming the state.
    const again = await stack.api('POST', `/v1/deployments/${v2}/complete`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/completed/);
    const resetAfter = await stack.api('POST', `/v1/deployments/${v2}/reset`, { rollbackDatabase: false });
    expect(resetAfter.status).toBe(409);
    expect(resetAfter.body.error.state).toBe('completed');
  }, 240_000);
});

/** The rows of the temporary copy, read as Cutover's admin login would. */
async function cloneRows(): Promise<Array<{ body: string }>> {
  const admin = Object.values(stack.env).find((v) => v?.includes(`/${stack.environment}_app`))!;
  const url = new URL(admin);
  url.pathname = `/${stack.environment}_app__cutover_tmp`;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return (await client.query<{ body: string }>('select body from notes')).rows;
  } finally {
    await client.end();
  }
}
