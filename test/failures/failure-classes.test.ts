import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { failureClasses, type FailureClass } from '../../src/failures.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;

/** Deploys a faulty package and checks the failure is classified, explained and leaves a safe state. */
async function deployExpectingFailure(pkg: string, expected: FailureClass, mode = 'readonly') {
  const id = await stack.deploy(pkg, mode);
  const status = await stack.waitForPhase(id, ['failed']);
  expect(status.failure.class).toBe(expected);
  expect(status.failure.remediation).toBe(failureClasses[expected].remediation);
  expect(status.actions).toEqual(['reset']);
  const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
  expect(log).toContain(`Deployment failed`);
  expect(log).toContain(`What to do: ${failureClasses[expected].remediation}`);
  return { id, status, log };
}

const servingSlot = async () => (await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-slot');
const servingVersion = async () => (await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version');

beforeAll(async () => {
  stack = await startTestStack({ warmupTimeout: '4s' });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

describe('failure classes, safe states and resume', () => {
  test('migration-failed: the clone keeps serving; a fixed package resumes without cloning again', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3 });
    const { id: failed, log } = await deployExpectingFailure('examples/faulty/bad-migration', 'migration-failed');
    expect(log).toMatch(/0003_add_tags\.sql/);
    expect(await servingSlot()).toMatch(/\.temporary$/);
    const env = (await stack.api('GET', `/v1/environments/${stack.environment}`)).body;
    expect(env).toMatchObject({ inMaintenance: true, livePackage: { version: '1.0.0' } });
    expect((await stack.sql<{ name: string }>('select name from cutover_migrations order by name')).map((r) => r.name)).not.toContain(
      '0003_add_tags.sql',
    );

    const resumed = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(resumed, ['awaiting-verification']);
    const resumedLog = (await stack.api('GET', `/v1/deployments/${resumed}/log`)).text;
    expect(resumedLog).toContain('Already in maintenance mode from an earlier deployment: web. Resuming from there.');
    expect(resumedLog).not.toContain('Copying database');
    await stack.api('POST', `/v1/deployments/${resumed}/complete`, {});
    await stack.waitForPhase(resumed, ['completed']);
    await stack.recordHistory(resumed, 'resumed');
    await stack.recordHistory(failed, 'failed-superseded');
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    expect(await servingVersion()).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 120_000);

  test('warmup-failed: no HTTP 200 in time; traffic never reaches the failed slot', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3, write: false });
    const { status } = await deployExpectingFailure('examples/faulty/warmup-500', 'warmup-failed');
    expect(status.failure.message).toMatch(/500/);
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect(report.versions.get('2.0.1-warmup-500')).toBeUndefined();
    expect(await servingSlot()).toMatch(/\.temporary$/);
    await stack.deployAndComplete('examples/demo-app/v2');
    expect(await servingVersion()).toBe('2.0.0');
  }, 120_000);

  test('ip-forbidden: a 403 on the warm-up; Reset from Failed leaves maintenance mode without deploying', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3 });
    const { id } = await deployExpectingFailure('examples/faulty/warmup-403', 'ip-forbidden');
    const reset = await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: true });
    expect(reset.status).toBe(200);
    const done = await stack.waitForPhase(id, ['reset']);
    expect(done.actions).toEqual([]);
    await stack.recordHistory(id, 'failed-then-reset');
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    expect(await servingSlot()).toMatch(/\.original$/);
    expect(await servingVersion()).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
    const stored = new Set((await stack.sql<{ body: string }>('select body from notes')).map((r) => r.body));
    expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);

    // The same failure again, this time resumed with a fixed package.
    await deployExpectingFailure('examples/faulty/warmup-403', 'ip-forbidden');
    expect(await servingSlot()).toMatch(/\.temporary$/);
    await stack.deployAndComplete('examples/demo-app/v2');
    expect(await servingSlot()).toMatch(/\.original$/);
  }, 150_000);

  test('startup-error: the process exits; its exit code and log are reported', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3, write: false });
    const { status } = await deployExpectingFailure('examples/faulty/exits-at-startup', 'startup-error');
    expect(status.failure.message).toMatch(/code 3/);
    await stack.deployAndComplete('examples/demo-app/v2');
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
  }, 120_000);

  test('readonly-not-supported: the clone cannot start read-only; the environment stays exactly as it was', async () => {
    await stack.deployAndComplete('examples/faulty/writes-at-startup', 'readwrite');
    const liveSlot = await servingSlot();
    // This faulty app only answers /healthz.
    const traffic = startTraffic(stack.publicUrl(), { readers: 3, write: false, readPath: '/healthz' });
    const { log, status } = await deployExpectingFailure('examples/demo-app/v2', 'readonly-not-supported', 'readonly');
    expect(status.failure.site).toBe('web');
    expect(log).toContain('At least one maintenance mode operation failed. Investigate the logs and try again.');
    expect(log).not.toContain('All sites in this deployment are now in maintenance mode');
    expect(await servingSlot()).toBe(liveSlot);
    expect((await stack.api('GET', `/v1/environments/${stack.environment}`)).body.inMaintenance).toBe(false);
    // Deploying again in readwrite mode (as the remediation says) takes over and completes.
    const resumed = await stack.deployAndComplete('examples/demo-app/v2', 'readwrite');
    expect(resumed.phase).toBe('completed');
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 150_000);
});
