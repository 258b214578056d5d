/** The rolling strategy's decisions: real workflow code on the real Temporal server, a fake platform with several hosts. */
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { afterEach, describe, expect, test } from 'vitest';
import type { RouteTarget } from '../../src/activities/contract.js';
import {
  completeUpdate,
  logQuery,
  resetUpdate,
  statusQuery,
  type DeploymentRequest,
  type DeploymentStatus,
} from '../../src/workflows/definitions.js';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { pkg } from './fake-platform.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const v1 = pkg('1.0.0');
const v2 = pkg('2.0.0');
const versionOf = (sha: unknown) => (sha === v1.sha256 ? 'v1' : sha === v2.sha256 ? 'v2' : String(sha));

async function start(harness: Harness, id: string, extra: Partial<DeploymentRequest> = {}) {
  harness.fake.addPackage(v2);
  const req: DeploymentRequest = {
    deploymentId: `${harness.environment}-${id}`,
    environment: harness.environment,
    package: v2,
    mode: 'readonly',
    strategy: 'rolling',
    ...extra,
  };
  return harness.client.workflow.start('deploymentWorkflow', { taskQueue: harness.taskQueue, workflowId: req.deploymentId, args: [req] });
}

async function waitFor(handle: { query: (q: typeof statusQuery) => Promise<DeploymentStatus> }, phase: string) {
  const until = Date.now() + 25_000;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => null);
    if (status?.phase === phase) return status;
    if (Date.now() > until) throw new Error(`phase ${phase} not reached; last ${status?.phase}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The host-side steps and the route switches in order: "out h1", "stop v1 h1", "start v2 h1", "warm v2 h1", "route h1:v2 h2:v1 ...". */
function steps(harness: Harness, from = 0): string[] {
  const hostOf = (address: string) => `h${address.split('.').pop()}`;
  return harness.fake.calls.slice(from).flatMap((call) => {
    const [name, json] = [call.slice(0, call.indexOf(' ')), call.slice(call.indexOf(' ') + 1)];
    const input = JSON.parse(json) as Record<string, any>;
    const slotVersion = (slotId: string) => (slotId.includes(v1.sha256.slice(0, 12)) ? 'v1' : 'v2');
    switch (name) {
      case 'startSlot':
        return [`start ${versionOf(input.packageSha256)} ${input.host}`];
      case 'warmUpSlot':
        return [`warm ${slotVersion(input.slotId)} ${input.host}`];
      case 'stopSlot':
        return [`stop ${slotVersion(input.slotId)} ${input.host}`];
      case 'routePublicTraffic': {
        const route = input.route as Extract<RouteTarget, { kind: 'slot' }>;
        return [`route ${(route.replicas ?? []).map((r) => hostOf(r.host!)).join(' ')}`];
      }
      default:
        return [];
    }
  });
}

/** The history for test/replay (CUTOVER_RECORD_HISTORIES=1): the workflow's own commands, whatever platform answered them. */
async function recordHistory(harness: Harness, workflowId: string, name: string) {
  if (!process.env.CUTOVER_RECORD_HISTORIES) return;
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  writeFileSync(fileURLToPath(new URL(`../replay/histories/${name}.json`, import.meta.url)), historyToJSON(history));
}

/** Which version each replica of the live route runs, by host. */
function liveVersions(harness: Harness): string[] {
  const route = harness.fake.routes.web!.live as Extract<RouteTarget, { kind: 'slot' }>;
  return (route.replicas ?? []).map((r) => {
    const host = `h${r.host!.split('.').pop()}`;
    const slot = [...harness.fake.slotsOn.get(host)!.values()].find((s) => s.port === r.port && s.state === 'running');
    return `${host}:${slot ? versionOf(slot.packageSha256) : 'none'}`;
  });
}

function runningVersions(harness: Harness): string[] {
  return [...harness.fake.slotsOn.entries()].map(
    ([host, slots]) =>
      `${host}:${[...slots.values()]
        .filter((s) => s.state === 'running')
        .map((s) => versionOf(s.packageSha256))
        .join('+')}`,
  );
}

describe('rolling strategy', () => {
  test('one host at a time: each drained out of the route, upgraded, warmed up and put back before the next; Complete ends it', async () => {
    h = await startHarness({ hosts: ['h1', 'h2', 'h3'] });
    h.fake.goLive(v1);
    const handle = await start(h, 'one');
    const awaiting = await waitFor(handle, 'awaiting-verification');
    expect(steps(h)).toEqual([
      ...['h1', 'h2', 'h3'].flatMap((host) => {
        const others = ['h1', 'h2', 'h3'].filter((x) => x !== host).join(' ');
        return [`route ${others}`, `stop v1 ${host}`, `start v2 ${host}`, `warm v2 ${host}`, 'route h1 h2 h3'];
      }),
    ]);
    // No clone, no restore point, migrations never applied: the old version tolerates the database.
    expect(h.fake.calls.filter((c) => /^(cloneDatabase|createRestorePoint|applyMigrations) /.test(c))).toEqual([]);
    expect(awaiting.rolling).toEqual({
      maxUnavailable: 1,
      hosts: ['h1', 'h2', 'h3'].map((name) => ({ name, version: '2.0.0', state: 'rolled' })),
    });
    expect(liveVersions(h)).toEqual(['h1:v2', 'h2:v2', 'h3:v2']);
    expect(h.fake.routes.web!.live).toMatchObject({ package: { version: '2.0.0' } });
    expect(h.fake.routes.web!.preview).toMatchObject({ package: { version: '2.0.0' } });
    expect(awaiting.timings.map((t) => t.phase)).toEqual(['preflight', 'rolling', 'awaiting-verification']);

    await handle.executeUpdate(completeUpdate, { args: [{}] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('completed');
    expect(runningVersions(h)).toEqual(['h1:v2', 'h2:v2', 'h3:v2']);
    expect(h.fake.routes.web!.preview).toBeNull();
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain('Hosts h2 serve 2.0.0');
  }, 40_000);

  test('maxUnavailable 2 of 4 hosts: two batches, never fewer than 2 replicas in the route', async () => {
    h = await startHarness({ hosts: ['h1', 'h2', 'h3', 'h4'] });
    h.fake.goLive(v1);
    const handle = await start(h, 'two', { maxUnavailable: 2 });
    await waitFor(handle, 'awaiting-verification');
    const routes = steps(h).filter((s) => s.startsWith('route '));
    expect(routes).toEqual(['route h3 h4', 'route h1 h2 h3 h4', 'route h1 h2', 'route h1 h2 h3 h4']);
    // Within a batch both hosts are out before either starts the new version.
    const order = steps(h);
    expect(order.indexOf('start v2 h2')).toBeLessThan(order.indexOf('route h1 h2 h3 h4'));
    expect(order.indexOf('start v2 h3')).toBeGreaterThan(order.indexOf('route h1 h2'));
    await handle.executeUpdate(completeUpdate, { args: [{}] });
    expect(((await handle.result()) as DeploymentStatus).phase).toBe('completed');
    expect(runningVersions(h)).toEqual(['h1:v2', 'h2:v2', 'h3:v2', 'h4:v2']);
  }, 40_000);

  test('Reset rolls back host by host the same way (code only; a database roll-back is refused naming why)', async () => {
    h = await startHarness({ hosts: ['h1', 'h2', 'h3'] });
    h.fake.goLive(v1);
    const handle = await start(h, 'reset');
    await waitFor(handle, 'awaiting-verification');
    const rolledAt = h.fake.calls.length;
    const refused = await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: true }] }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((refused as WorkflowUpdateFailedError).cause?.message).toMatch(/^rollbackDatabase: a rolling deployment takes no restore point/);
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false }] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('reset');
    expect(steps(h, rolledAt)).toEqual(
      ['h1', 'h2', 'h3'].flatMap((host) => {
        const others = ['h1', 'h2', 'h3'].filter((x) => x !== host).join(' ');
        return [`route ${others}`, `stop v2 ${host}`, `start v1 ${host}`, `warm v1 ${host}`, 'route h1 h2 h3'];
      }),
    );
    expect(liveVersions(h)).toEqual(['h1:v1', 'h2:v1', 'h3:v1']);
    expect(runningVersions(h)).toEqual(['h1:v1', 'h2:v1', 'h3:v1']);
    expect(done.rolling?.hosts.map((x) => x.state)).toEqual(['rolled-back', 'rolled-back', 'rolled-back']);
    await recordHistory(h, handle.workflowId, 'rolling-reset');
  }, 40_000);

  test('a host that fails its warm-up gets its old version back into the route; the failure is classified; deploying again resumes', async () => {
    h = await startHarness({ hosts: ['h1', 'h2', 'h3'] });
    h.fake.goLive(v1);
    h.fake.failWith(
      'warmUpSlot',
      'warmup-failed',
      'no 200 on /healthz within 1s',
      (input) => input.host === 'h2' && !input.slotId.includes(v1.sha256.slice(0, 12)),
    );
    const handle = await start(h, 'fail');
    const failed = await waitFor(handle, 'failed');
    expect(failed.failure).toMatchObject({ class: 'warmup-failed' });
    expect(failed.actions).toEqual(['reset']);
    // Every host serves a warmed-up version: h1 the new one, h2 its old one again, h3 never touched.
    expect(liveVersions(h)).toEqual(['h1:v2', 'h2:v1', 'h3:v1']);
    expect(runningVersions(h)).toEqual(['h1:v2', 'h2:v1', 'h3:v1']);
    expect(failed.rolling?.hosts).toEqual([
      { name: 'h1', version: '2.0.0', state: 'rolled' },
      { name: 'h2', version: '1.0.0', state: 'waiting' },
      { name: 'h3', version: '1.0.0', state: 'waiting' },
    ]);
    // The mixed route still names the version being replaced, so the next deployment knows what it rolls from.
    expect(h.fake.routes.web!.live).toMatchObject({ package: { version: '1.0.0' } });

    h.fake.clearFailures();
    const resumedAt = h.fake.calls.length;
    const again = await start(h, 'again');
    await waitFor(again, 'awaiting-verification');
    // h1 already runs the new version: left alone.
    expect(steps(h, resumedAt).filter((s) => !s.startsWith('route'))).toEqual([
      'stop v1 h2',
      'start v2 h2',
      'warm v2 h2',
      'stop v1 h3',
      'start v2 h3',
      'warm v2 h3',
    ]);
    expect(liveVersions(h)).toEqual(['h1:v2', 'h2:v2', 'h3:v2']);
    await again.executeUpdate(completeUpdate, { args: [{}] });
    expect(((await again.result()) as DeploymentStatus).phase).toBe('completed');
    await handle.terminate();
  }, 60_000);

  test('Reset after a failure mid-roll: the hosts already rolled go back, host by host', async () => {
    h = await startHarness({ hosts: ['h1', 'h2', 'h3'] });
    h.fake.goLive(v1);
    h.fake.failWith(
      'warmUpSlot',
      'warmup-failed',
      'no 200 on /healthz within 1s',
      (input) => input.host === 'h3' && !input.slotId.includes(v1.sha256.slice(0, 12)),
    );
    const handle = await start(h, 'fail-reset');
    await waitFor(handle, 'failed');
    expect(liveVersions(h)).toEqual(['h1:v2', 'h2:v2', 'h3:v1']);
    h.fake.clearFailures();
    const failedAt = h.fake.calls.length;
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false }] });
    const done = (await handle.result()) as DeploymentStatus;
    expect(done.phase).toBe('reset');
    expect(steps(h, failedAt).filter((s) => !s.startsWith('route'))).toEqual([
      'stop v2 h1',
      'start v1 h1',
      'warm v1 h1',
      'stop v2 h2',
      'start v1 h2',
      'warm v1 h2',
    ]);
    expect(runningVersions(h)).toEqual(['h1:v1', 'h2:v1', 'h3:v1']);
    await recordHistory(h, handle.workflowId, 'rolling-failed-then-reset');
  }, 40_000);

  test('a batch of two where one host fails: both get the old version back, warmed up, before the failure shows', async () => {
    h = await startHarness({ hosts: ['h1', 'h2', 'h3', 'h4'] });
    h.fake.goLive(v1);
    h.fake.failWith(
      'warmUpSlot',
      'warmup-failed',
      'no 200 on /healthz within 1s',
      (input) => input.host === 'h2' && !input.slotId.includes(v1.sha256.slice(0, 12)),
    );
    const handle = await start(h, 'batch-fails', { maxUnavailable: 2 });
    const failed = await waitFor(handle, 'failed');
    expect(failed.failure).toMatchObject({ class: 'warmup-failed' });
    expect(liveVersions(h)).toEqual(['h1:v1', 'h2:v1', 'h3:v1', 'h4:v1']);
    expect(runningVersions(h)).toEqual(['h1:v1', 'h2:v1', 'h3:v1', 'h4:v1']);
    // The second batch never started.
    expect(steps(h).filter((s) => !s.startsWith('route') && / h[34]$/.test(s))).toEqual([]);
    expect(steps(h).filter((s) => s.startsWith('route'))).toEqual([
      'route h3 h4',
      'route h1 h3 h4', // put back one host at a time
      'route h1 h2 h3 h4',
    ]);
    await handle.terminate();
  }, 40_000);

  test('refused in preflight, naming why: a migration the old version may not tolerate, maxUnavailable as large as the hosts', async () => {
    h = await startHarness({ hosts: ['h1', 'h2'] });
    h.fake.goLive(v1);
    h.fake.failWith('planExpandContract', 'invalid-input', 'migration 0002_add_author.sql is neither expand nor contract');
    const handle = await start(h, 'plain');
    expect(await handle.result().catch((e: unknown) => e)).toBeInstanceOf(WorkflowFailedError);
    const status = await handle.query(statusQuery);
    expect(status.failure).toMatchObject({
      class: 'invalid-input',
      message: 'database app cannot take a rolling deployment: migration 0002_add_author.sql is neither expand nor contract',
    });
    h.fake.clearFailures();
    const tooMany = await start(h, 'too-many', { maxUnavailable: 2 });
    await tooMany.result().catch(() => undefined);
    expect((await tooMany.query(statusQuery)).failure?.message).toMatch(/^maxUnavailable: must be less than the 2 hosts/);
    // Nothing moved.
    expect(steps(h)).toEqual([]);
    expect(liveVersions(h)).toEqual(['h1:v1', 'h2:v1']);
  }, 40_000);
});
