/** Bake after Complete, in the workflow: real workflow code and Temporal server, a fake platform (its measurements set by the test). */
import { afterEach, describe, expect, test } from 'vitest';
import type { BakeSpec } from '../../src/workflows/bake-definitions.js';
import { logQuery, statusQuery, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { startCompleted, v1, type DeploymentHandle } from './deployments.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const spec: BakeSpec = { durationMs: 2_000, intervalMs: 300, maxErrorRate: 0.1, maxP99Ms: 1_000 };

const log = async (handle: DeploymentHandle) => (await handle.query(logQuery, {})).lines.map((l) => l.message).join('\n');
const cloneOf = (status: DeploymentStatus) => status.sites.find((s) => s.name === 'web')!;

describe('bake after Complete', () => {
  test('a breach sends public traffic back to the clone at once, stops the new version, and ends rolled-back with the evidence', async () => {
    h = await startHarness({ bake: spec, slackReminderMs: 60_000 });
    h.fake.goLive(v1);
    h.fake.bakeTraffic.failingFrom = 2;
    const handle = await startCompleted(h, 'breach');
    const status = (await handle.result()) as DeploymentStatus;

    expect(status.phase).toBe('rolled-back');
    expect(status.bake).toMatchObject({ state: 'rolled-back', intervals: 2, breach: expect.stringContaining('error rate 50% above 10%') });
    expect(status.bake?.last[0]).toMatchObject({ site: 'web', requests: 50, failures: 25 });
    // Public traffic is on the clone of the previous version again; the new version and its preview are gone.
    expect(h.fake.routes.web!.live).toMatchObject({ kind: 'slot', package: { version: '1.0.0' } });
    expect((h.fake.routes.web!.live as { slotId: string }).slotId).toBe(cloneOf(status).serving);
    expect(h.fake.running().map((s) => s.packageVersion)).toEqual(['1.0.0']);
    // Code only: no restore, and the clone's temporary database stays while the clone serves.
    expect(h.fake.calls.some((c) => c.startsWith('restoreDatabase'))).toBe(false);
    expect(h.fake.db.temporary).toBe(true);
    const text = await log(handle);
    expect(text).toContain('Bake breached: site web: error rate 50% above 10% (25 of 50 requests)');
    expect(text).toContain('Deployment rolled back automatically after Complete');
    expect(h.fake.slackEvents).toEqual(['awaiting-verification', 'rolled-back']);
  }, 30_000);

  test('no breach: the clones stay up for the bake, then stop; the deployment completes', async () => {
    h = await startHarness({ bake: spec });
    h.fake.goLive(v1);
    const handle = await startCompleted(h, 'holds');
    // During the bake the new version serves and the clone still runs.
    for (let i = 0; ; i++) {
      const status = await handle.query(statusQuery);
      if (status.phase === 'baking' && status.bake?.intervals) break;
      if (i > 100) throw new Error(`no bake interval seen: ${status.phase}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(
      h.fake
        .running()
        .map((s) => s.packageVersion)
        .sort(),
    ).toEqual(['1.0.0', '2.0.0']);
    expect(h.fake.routes.web!.live).toMatchObject({ package: { version: '2.0.0' } });

    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('completed');
    expect(status.bake).toMatchObject({ state: 'passed', breach: null });
    expect(status.bake!.intervals).toBeGreaterThanOrEqual(5);
    expect(h.fake.running().map((s) => s.packageVersion)).toEqual(['2.0.0']);
    expect(h.fake.db.temporary).toBe(false);
    expect(status.timings.map((t) => t.phase)).toContain('baking');
    expect(await log(handle)).toContain('Bake passed: ');
  }, 30_000);

  test('expand-contract: a breach sends traffic back to the old version still running beside; no contract migration runs', async () => {
    h = await startHarness({ bake: spec });
    h.fake.goLive(v1);
    h.fake.phased.contract = ['0003_drop_old_column.sql'];
    h.fake.bakeTraffic.failingFrom = 1;
    const handle = await startCompleted(h, 'beside', { mode: 'expand-contract' });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('rolled-back');
    expect(h.fake.routes.web!.live).toMatchObject({ kind: 'slot', package: { version: '1.0.0' } });
    expect(status.sites[0]).toMatchObject({ state: 'live', serving: `${h.environment}.web.${v1.sha256.slice(0, 12)}.original` });
    expect(h.fake.running().map((s) => s.packageVersion)).toEqual(['1.0.0']);
    expect(h.fake.calls.some((c) => c.startsWith('applyMigrations') && c.includes('"contract"'))).toBe(false);
    expect(await log(handle)).toContain('1.0.0 serves again on the expanded schema; no contract migration ran');
  }, 30_000);

  test('expand-contract without a breach: the old version stops at the end of the bake, then the contract migrations run', async () => {
    h = await startHarness({ bake: { ...spec, durationMs: 900 } });
    h.fake.goLive(v1);
    h.fake.phased.contract = ['0003_drop_old_column.sql'];
    const handle = await startCompleted(h, 'beside-holds', { mode: 'expand-contract' });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('completed');
    expect(status.bake).toMatchObject({ state: 'passed' });
    const order = h.fake.calls.map((c) => c.slice(0, c.indexOf(' ')));
    const lastMeasure = order.lastIndexOf('measureLiveTraffic');
    expect(order.indexOf('stopSlot', lastMeasure)).toBeGreaterThan(lastMeasure);
    expect(order.lastIndexOf('applyMigrations')).toBeGreaterThan(order.indexOf('stopSlot', lastMeasure));
    expect(h.fake.running().map((s) => s.packageVersion)).toEqual(['2.0.0']);
  }, 30_000);

  test('a request that turns the bake off completes at once', async () => {
    h = await startHarness({ bake: spec });
    h.fake.goLive(v1);
    h.fake.bakeTraffic.failingFrom = 1;
    const handle = await startCompleted(h, 'off', { bake: false });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('completed');
    expect(status.bake ?? null).toBeNull();
    expect(h.fake.calls.some((c) => c.startsWith('measureLiveTraffic'))).toBe(false);
  }, 30_000);
});
