/** readwrite-replay mode's order of steps: real workflow code on the real Temporal server, a fake platform. */
import { WorkflowFailedError } from '@temporalio/client';
import { afterEach, describe, expect, test } from 'vitest';
import { completeUpdate, logQuery, resetUpdate, statusQuery, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { startDeployment, v1, v2, waitForStatus, webSlot, type DeploymentHandle } from './deployments.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const start = (harness: Harness, id: string) => startDeployment(harness, id, { mode: 'readwrite-replay' });
const cloneSlot = (harness: Harness) => webSlot(harness, v1, 'temporary');
const oldSlot = (harness: Harness) => webSlot(harness, v1);
const newSlot = (harness: Harness) => webSlot(harness, v2);
const conflict = {
  table: 'public.notes',
  key: { id: 1000000042 },
  op: 'insert' as const,
  reason: 'column "nickname" no longer exists on the original',
};

/** Verification, once the clone's writes were replayed onto the originals at least once. */
const awaitingAfterReplay = (handle: DeploymentHandle) =>
  waitForStatus(
    handle,
    'awaiting-verification after a replay',
    (s) => s.phase === 'awaiting-verification' && s.replay?.lastReplayAt != null,
  );

/** The calls that matter here, in order. */
function steps(harness: Harness): string[] {
  return harness.fake.calls.flatMap((call) => {
    const [name, json] = [call.slice(0, call.indexOf(' ')), call.slice(call.indexOf(' ') + 1)];
    const input = JSON.parse(json) as Record<string, unknown>;
    switch (name) {
      case 'cloneDatabase':
      case 'makeCloneReadOnly':
      case 'stopFollowingOriginal':
      case 'startWriteCapture':
      case 'createRestorePoint':
      case 'holdPublicTraffic':
      case 'applyMigrations':
      case 'restoreDatabase':
      case 'dropTemporaryDatabase':
        return [name];
      case 'replayWrites':
        return [input.final ? 'replayWrites final' : 'replayWrites'];
      case 'startSlot':
        return [`startSlot ${String(input.packageSha256) === v1.sha256 ? 'old' : 'new'} ${String(input.databases)}`];
      case 'stopSlot':
        return [`stopSlot ${String(input.slotId)}`];
      case 'routePublicTraffic':
        return [`routePublicTraffic ${String((input.route as { slotId?: string }).slotId)}`];
      default:
        return [];
    }
  });
}

/** Until the deployment awaits verification (the first replay included). */
const upToVerification = (harness: Harness) => [
  'cloneDatabase',
  'startSlot old temporary',
  'stopFollowingOriginal',
  'startWriteCapture',
  `routePublicTraffic ${cloneSlot(harness)}`,
  `stopSlot ${oldSlot(harness)}`,
  'createRestorePoint',
  'applyMigrations',
  'startSlot new original',
  'replayWrites',
];

describe('readwrite-replay mode', () => {
  test('capture before the clone takes traffic; replays while awaiting; at Complete replay, hold, final replay, switch', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    h.fake.replays.push({ applied: 7, conflicts: [conflict] }, { applied: 3, conflicts: [] }, { applied: 2, conflicts: [] });
    const handle = await start(h, 'complete');
    // The first replay runs on entering verification; its conflict shows in the status before anyone decides.
    const awaiting = await awaitingAfterReplay(handle);
    expect(awaiting.replay).toMatchObject({
      applied: 7,
      conflictCount: 1,
      conflicts: [{ database: 'app', ...conflict }],
      final: false,
    });
    expect(steps(h)).toEqual(upToVerification(h));

    await handle.executeUpdate(completeUpdate, { args: [{}] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('completed');
    expect(steps(h)).toEqual([
      ...upToVerification(h),
      'replayWrites',
      'holdPublicTraffic',
      'replayWrites final',
      `routePublicTraffic ${newSlot(h)}`,
      `stopSlot ${cloneSlot(h)}`,
      'dropTemporaryDatabase',
    ]);
    expect(done.replay).toMatchObject({ applied: 12, conflictCount: 1, final: true });
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain(
      'Replay conflict on app: insert on public.notes key {"id":1000000042}: column "nickname" no longer exists on the original',
    );
    expect(log.some((l) => l.startsWith('Final replay onto app: 2 changes the clone accepted'))).toBe(true);
  }, 30_000);

  test('Reset with database roll-back: restore, replay all onto the restored original, hold, final replay, traffic back', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    h.fake.replays.push({ applied: 5, conflicts: [conflict] });
    const handle = await start(h, 'reset');
    await awaitingAfterReplay(handle);
    // The restored original knows no replay: the next one applies every change again.
    h.fake.replays.push({ applied: 9, conflicts: [] }, { applied: 1, conflicts: [] });
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: true }] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('reset');
    expect(steps(h)).toEqual([
      ...upToVerification(h),
      `stopSlot ${newSlot(h)}`,
      'restoreDatabase',
      'replayWrites',
      'startSlot old original',
      'holdPublicTraffic',
      'replayWrites final',
      `routePublicTraffic ${oldSlot(h)}`,
      `stopSlot ${cloneSlot(h)}`,
      'dropTemporaryDatabase',
    ]);
    // The fake's totals run on (a real restored original starts them again); the conflicts of before the restore are gone.
    expect(done.replay).toMatchObject({ conflicts: [], final: true });
  }, 30_000);

  test('Reset code only: replay, old version started, hold, final replay, traffic back', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    const handle = await start(h, 'reset-code');
    await awaitingAfterReplay(handle);
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false }] });
    await handle.result();
    expect(steps(h).slice(upToVerification(h).length)).toEqual([
      `stopSlot ${newSlot(h)}`,
      'replayWrites',
      'startSlot old original',
      'holdPublicTraffic',
      'replayWrites final',
      `routePublicTraffic ${oldSlot(h)}`,
      `stopSlot ${cloneSlot(h)}`,
      'dropTemporaryDatabase',
    ]);
  }, 30_000);

  test('a data plane that cannot hold traffic (HAProxy, nginx): Complete switches first, then the final replay', async () => {
    h = await startHarness({ cannotHold: true });
    h.fake.goLive(v1);
    const handle = await start(h, 'cannot-hold');
    await awaitingAfterReplay(handle);
    await handle.executeUpdate(completeUpdate, { args: [{}] });
    expect(((await handle.result()) as DeploymentStatus).phase).toBe('completed');
    expect(steps(h).slice(upToVerification(h).length)).toEqual([
      'replayWrites',
      'holdPublicTraffic',
      `routePublicTraffic ${newSlot(h)}`,
      'replayWrites final',
      `stopSlot ${cloneSlot(h)}`,
      'dropTemporaryDatabase',
    ]);
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain('The data plane cannot hold traffic: the final replay follows the switch (docs/data-safety.md)');
  }, 30_000);

  test('an engine that cannot capture: refused in preflight, naming the database, before anything moves', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    h.fake.plan.databases = [{ name: 'app', engine: 'sqlserver' }];
    const handle = await start(h, 'sqlserver');
    expect(await handle.result().catch((e: unknown) => e)).toBeInstanceOf(WorkflowFailedError);
    const status = await handle.query(statusQuery);
    expect(status.failure).toMatchObject({
      class: 'invalid-input',
      message: expect.stringContaining(
        "mode readwrite-replay needs every database to capture the clone's writes, and database app (sqlserver) cannot",
      ),
    });
    expect(steps(h)).toEqual([]);
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: oldSlot(h) });
  }, 30_000);
});
