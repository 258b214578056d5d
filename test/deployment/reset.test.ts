import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

const columns = async () =>
  (
    await stack.sql<{ column_name: string }>(
      "select column_name from information_schema.columns where table_name = 'notes' order by ordinal_position",
    )
  ).map((c) => c.column_name);
const version = async () => (await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version');

async function deployV2AndReset(rollbackDatabase: boolean) {
  const traffic = startTraffic(stack.publicUrl(), { readers: 3 });
  const id = await stack.deploy('examples/demo-app/v2');
  await stack.waitForPhase(id, ['awaiting-verification']);
  expect(await columns()).toContain('author');
  const accepted = await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase });
  expect(accepted.status).toBe(200);
  expect(accepted.body.decision).toMatchObject({ action: 'reset', rollbackDatabase });
  const done = await stack.waitForPhase(id, ['reset']);
  await stack.recordHistory(id, rollbackDatabase ? 'reset-with-database' : 'reset-code-only');
  await new Promise((r) => setTimeout(r, 300));
  const report = await traffic.stop();
  expect(report.failedReads).toEqual([]);
  expect(report.failedWrites).toEqual([]);
  const stored = new Set((await stack.sql<{ body: string }>('select body from notes')).map((r) => r.body));
  expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
  expect(report.acceptedWrites.length).toBeGreaterThan(0);
  expect(await version()).toBe('1.0.0');
  expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  return { id, done };
}

describe('smooth deployment, Reset paths', () => {
  test('Reset, code only: v1 serves again and the migrated schema stays', async () => {
    const { id, done } = await deployV2AndReset(false);
    expect(await columns()).toContain('author');
    expect(done.actions).toEqual([]);
    const log = await stack.api('GET', `/v1/deployments/${id}/log`);
    expect(log.text).toContain('Reset (roll back code only) requested');
    expect(log.text).toContain('code rolled back, database kept');
    const again = await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: true });
    expect(again.status).toBe(409);
    expect(again.body.error.state).toBe('reset');
    const complete = await stack.api('POST', `/v1/deployments/${id}/complete`, {});
    expect(complete.status).toBe(409);
    expect(complete.body.error.message).toMatch(/the deployment is reset/);
  }, 180_000);

  test('Reset with database: the restore point undoes the migration, earlier writes stay', async () => {
    // The previous test left the author column in place: put the database back to v1's schema first.
    await stack.sql("alter table notes drop column if exists author; delete from cutover_migrations where name = '0002_add_author.sql'");
    await stack.sql("insert into notes (body) values ('written on v1')");
    await deployV2AndReset(true);
    expect(await columns()).not.toContain('author');
    expect((await stack.sql<{ body: string }>("select body from notes where body = 'written on v1'")).length).toBe(1);
    expect((await stack.sql<{ name: string }>('select name from cutover_migrations order by name')).map((r) => r.name)).toEqual([
      '0001_create_notes.sql',
    ]);
  }, 180_000);
});
