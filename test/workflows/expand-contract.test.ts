/** Expand/contract mode's decisions: real workflow code on the real Temporal server, a fake platform. */
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterEach, describe, expect, test } from 'vitest';
import { completeUpdate, logQuery, resetUpdate, statusQuery, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { startDeployment, v1, v2, waitForPhase, webSlot } from './deployments.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const start = (harness: Harness, id: string) => startDeployment(harness, id, { mode: 'expand-contract' });
const oldSlot = (harness: Harness) => webSlot(harness, v1);
const newSlot = (harness: Harness) => webSlot(harness, v2);

/** The calls in order, each as "activity detail" for the ones that matter here. */
function steps(harness: Harness): string[] {
  return harness.fake.calls.flatMap((call) => {
    const [name, json] = [call.slice(0, call.indexOf(' ')), call.slice(call.indexOf(' ') + 1)];
    const input = JSON.parse(json) as Record<string, unknown>;
    switch (name) {
      case 'planExpandContract':
      case 'undoMigrations':
      case 'cloneDatabase':
      case 'createRestorePoint':
      case 'makeCloneReadOnly':
      case 'restoreDatabase':
        return [name];
      case 'applyMigrations':
        return [`applyMigrations ${input.phase ? String(input.phase) : 'all'}`];
      case 'startSlot':
        return [`startSlot ${String(input.packageSha256) === v1.sha256 ? 'old' : 'new'}${input.check ? ' check' : ''}`];
      case 'warmUpSlot':
      case 'stopSlot':
        return [`${name} ${String(input.slotId)}`];
      case 'routePublicTraffic':
        return [`routePublicTraffic ${String((input.route as { slotId?: string }).slotId)}`];
      default:
        return [];
    }
  });
}

describe('expand-contract mode', () => {
  const expandThenContract =
    'expand, the old version checked on the expanded schema, the new one beside it; Complete moves traffic, stops the old, then contracts';
  test(expandThenContract, { timeout: 30_000 }, async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    Object.assign(h.fake.phased, { expand: ['0003_add_title.sql'], contract: ['0004_author_required.sql'] });
    const handle = await start(h, 'complete');
    const awaiting = await waitForPhase(handle, 'awaiting-verification');
    // The old version served all along: no clone, no restore point, no maintenance.
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: oldSlot(h) });
    expect(
      h.fake
        .running()
        .map((s) => s.slotId)
        .sort(),
    ).toEqual([newSlot(h), oldSlot(h)].sort());
    expect(awaiting.timings.map((t) => t.phase)).toEqual(['preflight', 'expand', 'upgrade', 'warmup', 'awaiting-verification']);

    await handle.executeUpdate(completeUpdate, { args: [{}] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('completed');
    expect(steps(h)).toEqual([
      'planExpandContract',
      'applyMigrations expand',
      `stopSlot ${oldSlot(h)}.check`,
      'startSlot old check',
      `warmUpSlot ${oldSlot(h)}.check`,
      `stopSlot ${oldSlot(h)}.check`,
      'startSlot new',
      `warmUpSlot ${newSlot(h)}`,
      `routePublicTraffic ${newSlot(h)}`,
      `stopSlot ${oldSlot(h)}`,
      'applyMigrations contract',
    ]);
    expect(done.timings.map((t) => t.phase)).toEqual([
      'preflight',
      'expand',
      'upgrade',
      'warmup',
      'awaiting-verification',
      'completing',
      'contract',
    ]);
    expect(h.fake.running().map((s) => s.slotId)).toEqual([newSlot(h)]);
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain('1.0.0 works on the expanded schema on site web');
    expect(log).toContain('Applied contract migrations to app: 0004_author_required.sql');
  });

  test('the old version fails on the expanded schema: refused before any traffic moves, the expand migrations undone', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    Object.assign(h.fake.phased, { expand: ['0005_rename_body.sql'] });
    h.fake.failWith('warmUpSlot', 'warmup-failed', 'no 200 on /healthz (503: column "body" does not exist)', (input) =>
      input.slotId.endsWith('.check'),
    );
    const handle = await start(h, 'refused');
    const error = await handle.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const status = await handle.query(statusQuery);
    expect(status.failure).toMatchObject({
      class: 'migration-failed',
      message: expect.stringMatching(/^the old version 1\.0\.0 does not work on the expanded schema: no 200 on \/healthz/),
      remediation: expect.stringContaining('the expand migrations were undone'),
    });
    expect(status.actions).toEqual([]);
    expect(steps(h)).toEqual([
      'planExpandContract',
      'applyMigrations expand',
      `stopSlot ${oldSlot(h)}.check`,
      'startSlot old check',
      `warmUpSlot ${oldSlot(h)}.check`,
      `stopSlot ${oldSlot(h)}.check`,
      `stopSlot ${oldSlot(h)}.check`,
      'undoMigrations',
    ]);
    expect(h.fake.calls.find((c) => c.startsWith('undoMigrations'))).toContain('"names":["0005_rename_body.sql"]');
    // Nothing moved: the old version still serves, nothing of the new one runs.
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: oldSlot(h) });
    expect(h.fake.running().map((s) => s.slotId)).toEqual([oldSlot(h)]);
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain('The expand migrations were undone: the databases are as they were before this deployment.');
    expect(log).toContain('No traffic moved: the live version still serves every site.');
  }, 30_000);

  test('without an undo script the expand migrations stay, and the remediation says so', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    Object.assign(h.fake.phased, { expand: ['0005_rename_body.sql'], withoutUndo: ['0005_rename_body.sql'] });
    h.fake.failWith('warmUpSlot', 'warmup-failed', 'no 200 on /healthz', (input) => input.slotId.endsWith('.check'));
    const handle = await start(h, 'no-undo');
    await handle.result().catch(() => undefined);
    const status = await handle.query(statusQuery);
    const stayApplied =
      'No traffic moved, but these expand migrations stay applied and the live version runs on them: ' +
      'app: 0005_rename_body.sql (no undo script for 0005_rename_body.sql in expand/)';
    expect(status.failure?.remediation?.slice(0, stayApplied.length)).toBe(stayApplied);
    expect(steps(h)).not.toContain('undoMigrations');
  }, 30_000);

  test('Reset: code only (a database roll-back is refused, naming why), the old version serves again, no contract', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    Object.assign(h.fake.phased, { expand: ['0003_add_title.sql'], contract: ['0004_author_required.sql'] });
    const handle = await start(h, 'reset');
    await waitForPhase(handle, 'awaiting-verification');
    const refused = await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: true }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/^rollbackDatabase: expand-contract mode takes no restore point/);
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false }] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('reset');
    expect(steps(h)).not.toContain('applyMigrations contract');
    expect(steps(h)).not.toContain('restoreDatabase');
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: oldSlot(h) });
    expect(h.fake.running().map((s) => s.slotId)).toEqual([oldSlot(h)]);
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain('The expand migrations stay: the live version was checked to work on them before any traffic moved');
  }, 30_000);

  test('with no live version yet there is nothing to keep working: every migration applies before the first version starts', async () => {
    h = await startHarness();
    Object.assign(h.fake.phased, { expand: ['0003_add_title.sql'], contract: ['0004_author_required.sql'] });
    const handle = await start(h, 'first');
    await waitForPhase(handle, 'awaiting-verification');
    await handle.executeUpdate(completeUpdate, { args: [{}] });
    expect(((await handle.result()) as DeploymentStatus).phase).toBe('completed');
    expect(steps(h)).toEqual([
      'createRestorePoint',
      'applyMigrations all',
      'startSlot new',
      `warmUpSlot ${newSlot(h)}`,
      `routePublicTraffic ${newSlot(h)}`,
    ]);
  }, 30_000);

  test('a maintenance-page site, which must never run two versions at once, is refused in preflight', async () => {
    h = await startHarness({
      sites: [
        { name: 'web', role: 'zdd' },
        { name: 'scheduler', role: 'maintenance-page' },
      ],
    });
    h.fake.goLive(v1);
    const handle = await start(h, 'scheduler');
    await handle.result().catch(() => undefined);
    const status = await handle.query(statusQuery);
    expect(status.failure).toMatchObject({
      class: 'invalid-input',
      message: expect.stringMatching(/^site scheduler has role maintenance-page/),
    });
    expect(steps(h)).toEqual([]);
    expect((await handle.query(logQuery, {})).lines.map((l) => l.message)).toContain(
      'Nothing was changed: the environment is exactly as it was.',
    );
  }, 30_000);
});
