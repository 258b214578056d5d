/**
 * readwrite-replay mode end to end (real Temporal, PostgreSQL, router, agent and slots), under a steady writer: the
 * clone refuses no write, and every write it accepted reaches the final database, through Reset with database roll-back
 * and through Complete; a write that no longer fits the migrated schema is a conflict, reported (count, table, key).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic, type TrafficReport } from '../support/traffic.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.deployAndComplete('examples/demo-app/v1');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How many rows the final database has of each body this traffic wrote (earlier tests' traffic left rows too). */
async function storedCounts(report: TrafficReport): Promise<Map<string, number>> {
  const prefix = report.acceptedWrites[0]!.replace(/-\d+$/, '-');
  const rows = await stack.sql<{ body: string; n: string }>(
    'select body, count(*) as n from notes where starts_with(body, $1) group by body',
    [prefix],
  );
  return new Map(rows.map((r) => [r.body, Number(r.n)]));
}

/** The deployment's status once the first replay during verification has run. */
async function awaitingWithReplay(id: string): Promise<any> {
  for (let tries = 0; tries < 300; tries++) {
    const status = (await stack.api('GET', `/v1/deployments/${id}`)).body;
    if (status.phase === 'awaiting-verification' && status.replay?.lastReplayAt) return status;
    if (status.phase === 'failed') throw new Error(`deployment failed: ${JSON.stringify(status.failure)}`);
    await sleep(200);
  }
  throw new Error(`deployment ${id} did not replay during verification`);
}

/** The clone took writes for a while: some after the first replay, so Complete / Reset have a tail to carry. */
async function clonedWrites(traffic: { report: TrafficReport }, atLeast: number) {
  const from = traffic.report.acceptedWrites.length;
  while (traffic.report.acceptedWrites.length < from + atLeast) await sleep(100);
}

describe('readwrite-replay mode', () => {
  test('Reset with database roll-back: no write refused, every accepted one (the clone took some) is in the restored database', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 2, writeEveryMs: 20 });
    const id = await stack.deploy('examples/demo-app/v2', 'readwrite-replay');
    const awaiting = await awaitingWithReplay(id);
    const pub = await fetch(`${stack.publicUrl()}/notes`);
    expect(pub.headers.get('x-slot')).toMatch(/\.temporary$/);
    await clonedWrites(traffic, 20);

    expect((await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: true })).status).toBe(200);
    const done = await stack.waitForPhase(id, ['reset']);
    await stack.recordHistory(id, 'readwrite-replay-reset-with-database');
    await sleep(500);
    const report = await traffic.stop();

    expect(report.refusedWrites).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    // Restored: v1's schema again, and the clone's writes replayed onto it, each once.
    expect(
      await stack.sql("select column_name from information_schema.columns where table_name = 'notes' and column_name = 'author'"),
    ).toEqual([]);
    const stored = await storedCounts(report);
    expect(report.acceptedWrites.filter((b) => stored.get(b) !== 1)).toEqual([]);
    expect(stored.size).toBe(report.acceptedWrites.length);
    expect(awaiting.replay.applied).toBeGreaterThan(0);
    expect(done.replay).toMatchObject({ conflictCount: 0, conflicts: [], final: true });
    expect(done.replay.applied).toBeGreaterThanOrEqual(20);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('The temporary copy of app captures every write from now on');
    expect(log).toMatch(/Final replay onto app: \d+ changes the clone accepted/);
    expect(log).toContain('Public traffic is held for the switch');
  }, 240_000);

  test('Complete: no write refused, every accepted one is in the final database, once', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 2, writeEveryMs: 20 });
    const id = await stack.deploy('examples/demo-app/v2', 'readwrite-replay');
    await awaitingWithReplay(id);
    await clonedWrites(traffic, 20);

    expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
    const done = await stack.waitForPhase(id, ['completed']);
    await stack.recordHistory(id, 'readwrite-replay-complete');
    await sleep(500);
    const report = await traffic.stop();

    expect(report.refusedWrites).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    expect([...report.versions.keys()]).toContain('2.0.0');
    const stored = await storedCounts(report);
    expect(report.acceptedWrites.filter((b) => stored.get(b) !== 1)).toEqual([]);
    expect(stored.size).toBe(report.acceptedWrites.length);
    expect(done.replay).toMatchObject({ conflictCount: 0, final: true });
    expect(done.replay.applied).toBeGreaterThanOrEqual(20);
    // The built-in router held the writes for the final replay: the new version took none before it.
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('Public traffic is held for the switch');
    expect(log.indexOf('Public traffic is held for the switch')).toBeLessThan(log.search(/Final replay onto app/));
    expect(done.timings.map((t: { phase: string }) => t.phase)).toEqual([
      'preflight',
      'clone',
      'enter-maintenance',
      'upgrade',
      'warmup',
      'awaiting-verification',
      'completing',
    ]);
    // The copy is gone; the original keeps the record of what was replayed.
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 240_000);

  test('a migration that drops a column the clone still writes: each such write is a conflict, counted and named in the status', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 1, writeEveryMs: 20 });
    const id = await stack.deploy('examples/faulty/drops-author-column', 'readwrite-replay');
    const awaiting = await awaitingWithReplay(id);
    expect(awaiting.replay.conflictCount).toBeGreaterThan(0);
    expect(awaiting.replay.conflicts[0]).toEqual({
      database: 'app',
      table: 'public.notes',
      key: { id: expect.any(Number) },
      op: 'insert',
      reason: 'column "author" no longer exists on the original',
    });
    expect(awaiting.replay.conflicts[0].key.id).toBeGreaterThan(1_000_000_000);

    expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
    const done = await stack.waitForPhase(id, ['completed']);
    await sleep(500);
    const report = await traffic.stop();

    expect(report.refusedWrites).toEqual([]);
    // Exactly the writes the clone accepted are missing, and each is a conflict kept whole in the original.
    const stored = await storedCounts(report);
    const missing = report.acceptedWrites.filter((b) => stored.get(b) !== 1).sort();
    expect(missing.length).toBe(done.replay.conflictCount);
    const kept = await stack.sql<{ body: string }>("select new_row ->> 'body' as body from cutover_replay.conflicts order by 1");
    expect(kept.map((r) => r.body).filter((b) => b.startsWith('traffic-'))).toEqual(missing);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toMatch(
      /Replay conflict on app: insert on public\.notes key \{"id":\d+\}: column "author" no longer exists on the original/,
    );
  }, 240_000);
});
