/** The deployment workflow's decisions, in seconds: real workflow code and Temporal server, a fake platform. */
import { WorkflowUpdateFailedError, WithStartWorkflowOperation } from '@temporalio/client';
import { afterEach, describe, expect, test } from 'vitest';
import {
  completeUpdate,
  environmentWorkflowId,
  logQuery,
  requestDeploymentUpdate,
  resetUpdate,
  supersedeSignal,
  type DeploymentStatus,
} from '../../src/workflows/definitions.js';
import { phaseKey } from '../../src/workflows/search-attributes.js';
import { deploymentRequest, startDeployment, v1, v2, waitForPhase } from './deployments.js';
import { pkg } from './fake-platform.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** A deployment request as the API sends it: through the environment workflow. */
function throughEnvironment(harness: Harness, id: string, ref = v2) {
  return harness.client.workflow.executeUpdateWithStart(requestDeploymentUpdate, {
    args: [deploymentRequest(harness, id, { package: ref })],
    startWorkflowOperation: new WithStartWorkflowOperation('environmentWorkflow', {
      workflowId: environmentWorkflowId(harness.environment),
      taskQueue: harness.taskQueue,
      args: [harness.environment],
      workflowIdConflictPolicy: 'USE_EXISTING',
    }),
  });
}

async function searchPhase(harness: Harness, workflowId: string) {
  return (await harness.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(phaseKey);
}

describe('deployment workflow logic', () => {
  test('the verification window ends: Reset (code only), never Complete; Slack is reminded meanwhile', async () => {
    h = await startHarness({ verificationTimeoutMs: 3_000, slackReminderMs: 1_000 });
    h.fake.goLive(v1);
    const handle = await startDeployment(h, 'timeout');
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('reset');
    expect(status.decision).toMatchObject({ action: 'reset', rollbackDatabase: false, reason: 'verification timeout' });
    expect(h.fake.slackEvents).toEqual(['awaiting-verification', 'reminder', 'reminder', 'reset']);
    expect(h.fake.calls.some((c) => c.startsWith('restoreDatabase'))).toBe(false);
    expect(h.fake.routes.web!.live).toMatchObject({ kind: 'slot', package: { version: '1.0.0' } });
  }, 30_000);

  test('Complete is accepted once; a second Complete and a malformed Reset are refused, naming the state', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    const handle = await startDeployment(h, 'twice');
    await waitForPhase(handle, 'awaiting-verification');
    await expect(handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: 'yes' as never }] })).rejects.toThrow(
      WorkflowUpdateFailedError,
    );
    expect((await handle.executeUpdate(completeUpdate, { args: [{}] })).decision).toMatchObject({ action: 'complete' });
    const second = await handle.executeUpdate(completeUpdate, { args: [{}] }).catch((e: WorkflowUpdateFailedError) => e);
    expect(second).toBeInstanceOf(WorkflowUpdateFailedError);
    expect((second as WorkflowUpdateFailedError).cause?.message).toMatch(
      /already being completed \(current state: (completing|completed)\)/,
    );
    expect(((await handle.result()) as DeploymentStatus).phase).toBe('completed');
  }, 30_000);

  test('a preview that fails its warm-up: the new version stops on every site, Reset stays available, the phase is published', async () => {
    h = await startHarness({
      sites: [
        { name: 'web', role: 'zdd' },
        { name: 'backoffice', role: 'maintenance-page' },
      ],
    });
    h.fake.goLive(v1);
    h.fake.failWith('warmUpSlot', 'warmup-failed', 'no 200 on /healthz', (input) =>
      input.slotId.includes(`.web.${v2.sha256.slice(0, 12)}.original`),
    );
    const handle = await startDeployment(h, 'warmup');
    const status = await waitForPhase(handle, 'failed');
    expect(status.actions).toEqual(['reset']);
    expect(h.fake.running().filter((s) => s.packageVersion === '2.0.0')).toEqual([]);
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: expect.stringMatching(/\.temporary$/) });
    expect(h.fake.routes.backoffice!.live).toMatchObject({ kind: 'maintenance' });
    expect(await searchPhase(h, handle.workflowId)).toBe('failed');

    // A Reset that itself fails leaves the deployment failed, and says so: never stuck at 'resetting'.
    h.fake.failWith('routePublicTraffic', 'invalid-input', 'the router refused the route');
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false }] });
    await expect(handle.result()).rejects.toThrow();
    expect(await searchPhase(h, handle.workflowId)).toBe('failed');
  }, 30_000);

  test('a clone that cannot start read-only: no traffic moves, the warm clones stop, the copy is dropped', async () => {
    h = await startHarness({
      sites: [
        { name: 'web', role: 'zdd' },
        { name: 'api', role: 'zdd' },
      ],
    });
    h.fake.goLive(v1);
    const before = structuredClone(h.fake.routes);
    h.fake.failWith(
      'warmUpSlot',
      'readonly-not-supported',
      'the app wrote at startup',
      (input) => input.slotId.includes('.api.') && input.slotId.endsWith('.temporary'),
    );
    const handle = await startDeployment(h, 'readonly');
    const status = await waitForPhase(handle, 'failed');
    expect(status.failure).toMatchObject({ class: 'readonly-not-supported', site: 'api' });
    expect(status.sites.map((s) => [s.name, s.state])).toEqual([
      ['web', 'live'],
      ['api', 'failed'],
    ]);
    expect(h.fake.calls.filter((c) => c.startsWith('routePublicTraffic'))).toEqual([]);
    expect(h.fake.routes).toEqual(before);
    expect(h.fake.running().filter((s) => s.databases === 'temporary')).toEqual([]);
    expect(h.fake.db.temporary).toBe(false);
  }, 30_000);

  test('a switch that fails on one site: the other stays in maintenance, named in the log; the next deployment resumes there', async () => {
    h = await startHarness({
      sites: [
        { name: 'web', role: 'zdd' },
        { name: 'api', role: 'zdd' },
      ],
    });
    h.fake.goLive(v1);
    h.fake.failWith('routePublicTraffic', 'invalid-input', 'the router refused the route', (input) => input.site === 'api');
    const failed = await startDeployment(h, 'switch');
    const status = await waitForPhase(failed, 'failed');
    expect(status.sites.map((s) => [s.name, s.state])).toEqual([
      ['web', 'in-maintenance'],
      ['api', 'failed'],
    ]);
    const lines = (await failed.query(logQuery, {})).lines.map((l) => l.message);
    expect(lines).toContain('Sites left in maintenance mode: web');
    expect(lines).toContain('At least one maintenance mode operation failed. Investigate the logs and try again.');

    h.fake.clearFailures();
    const resumed = await startDeployment(h, 'resumed', { package: pkg('2.0.1') });
    await failed.signal(supersedeSignal);
    const ready = await waitForPhase(resumed, 'awaiting-verification');
    expect(ready.sites.map((s) => s.state)).toEqual(['preview', 'preview']);
    const log = (await resumed.query(logQuery, {})).lines.map((l) => l.message);
    expect(log).toContain('Already in maintenance mode from an earlier deployment: web. Resuming from there.');
    expect(log).not.toContain('Enabling zero downtime deployment mode readonly on site web');
    expect(log).toContain('Enabling zero downtime deployment mode readonly on site api');
  }, 30_000);

  test('before migrating, a slot an earlier deployment left on the originals stops, whatever its package (promise 2)', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    const v3 = pkg('3.0.0');
    h.fake.addPackage(v3);
    const spec = { environment: h.environment, site: 'web', packageSha256: v3.sha256, databases: 'original' as const, readOnly: false };
    const leftover = await h.fake.hostActivities.startSlot(spec);
    const handle = await startDeployment(h, 'leftover');
    await waitForPhase(handle, 'awaiting-verification');
    expect(h.fake.slots.get(leftover.slotId)?.state).toBe('exited');
    expect(h.fake.running().map((s) => `${s.packageVersion} ${s.databases}`)).toEqual(['1.0.0 temporary', '2.0.0 original']);
    const log = (await handle.query(logQuery, {})).lines.map((l) => l.message);
    expect(log.some((line) => line.startsWith(`Stopping ${leftover.slotId} (3.0.0)`))).toBe(true);
    await handle.terminate('test over');
  }, 30_000);

  test('the environment accepts the next deployment as soon as the previous one shows completed', async () => {
    h = await startHarness({ slackReminderMs: 60_000 });
    h.fake.goLive(v1);
    // Slack answers slowly: the deployment shows completed while it still tells Slack.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    h.fake.hooks.beforeSlack = (event) => (event === 'completed' ? held : Promise.resolve());
    const deploy = (id: string, ref = v2) => throughEnvironment(h!, id, ref);
    const first = await deploy('first');
    const handle = h.client.workflow.getHandle(first.workflowId);
    await waitForPhase(handle, 'awaiting-verification');
    await handle.executeUpdate(completeUpdate, { args: [{}] });
    await waitForPhase(handle, 'completed');
    const second = await deploy('second', pkg('3.0.0'));
    expect(second.deploymentId).toBe(`${h.environment}-second`);
    expect((await handle.describe()).status.name).toBe('RUNNING'); // the first one still tells Slack
    release();
    await handle.result();
    await h.client.workflow.getHandle(environmentWorkflowId(h.environment)).terminate('test over');
  }, 30_000);

  test('a failed deployment that was Reset does not hold up the next one while it still tells Slack', async () => {
    h = await startHarness({ slackReminderMs: 60_000 });
    h.fake.goLive(v1);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    h.fake.hooks.beforeSlack = (event) => (event === 'reset' ? held : Promise.resolve());
    h.fake.failWith('warmUpSlot', 'warmup-failed', 'no 200 on /healthz', (input) => input.slotId.includes(v2.sha256.slice(0, 12)));
    const first = await throughEnvironment(h, 'first');
    const handle = h.client.workflow.getHandle(first.workflowId);
    await waitForPhase(handle, 'failed');
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: true }] });
    await waitForPhase(handle, 'reset');
    h.fake.clearFailures();
    const second = await throughEnvironment(h, 'second', pkg('3.0.0'));
    expect(second.deploymentId).toBe(`${h.environment}-second`);
    expect((await handle.describe()).status.name).toBe('RUNNING'); // the first one still tells Slack
    release();
    await handle.result();
    await h.client.workflow.getHandle(environmentWorkflowId(h.environment)).terminate('test over');
  }, 30_000);
});
