import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';
import { phaseKey } from '../../src/workflows/search-attributes.js';

let stack: TestStack;

beforeAll(async () => {
  // Short timeouts: a killed worker's activity is retried within seconds.
  stack = await startTestStack({ workerProcess: true, timeouts: { step: '8s', heartbeat: '4s' } });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

/** Starts a worker that SIGKILLs itself as `activity` starts; resolves once it died there. */
async function crashAt(activity: string) {
  await stack.startWorker({ CUTOVER_CRASH_AT: activity });
  expect(await stack.workerExited()).toBe('SIGKILL');
}

describe('crash matrix: the worker is SIGKILLed in every phase', () => {
  test('the deployment ends exactly as an undisturbed one, with every public read served and no write lost', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3 });
    const phasesSeen: string[] = [];
    let id = '';
    // No worker runs after a crash: the phase Temporal recorded is in the search attribute.
    const phaseOf = async () => (await stack.client.workflow.getHandle(id).describe()).typedSearchAttributes.get(phaseKey);
    const crash = async (activity: string, phase: string) => {
      await crashAt(activity);
      const seen = await phaseOf();
      phasesSeen.push(`${activity} in ${seen}`);
      expect(seen).toBe(phase);
    };

    // A deployment request needs a workflow worker: the first crashing worker takes it.
    await stack.killWorker();
    await stack.startWorker({ CUTOVER_CRASH_AT: 'cloneDatabase' });
    id = await stack.deploy('examples/demo-app/v2');
    expect(await stack.workerExited()).toBe('SIGKILL');
    phasesSeen.push(`cloneDatabase in ${await phaseOf()}`);
    // The API says so instead of failing: 503, naming the phase.
    const unavailable = await stack.api('GET', `/v1/deployments/${id}`);
    expect(unavailable.status).toBe(503);
    expect(unavailable.body.error).toMatchObject({ code: 'worker-unavailable', state: 'clone' });
    await crash('routePublicTraffic', 'enter-maintenance');
    await crash('applyMigrations', 'upgrade');
    await crash('routePreview', 'warmup');
    await stack.startWorker();
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    // Killed while waiting for a person: the decision still lands once a worker is back.
    await stack.killWorker();
    await stack.startWorker();
    expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
    const done = await stack.waitForPhase(id, ['completed'], 120_000);
    const report = await traffic.stop();

    expect(phasesSeen).toEqual([
      'cloneDatabase in clone',
      'routePublicTraffic in enter-maintenance',
      'applyMigrations in upgrade',
      'routePreview in warmup',
    ]);
    expect(done.decision.action).toBe('complete');
    expect(report.failedReads).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    const stored = new Set((await stack.sql<{ body: string }>('select body from notes')).map((r) => r.body));
    expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
    expect(report.acceptedWrites.length).toBeGreaterThan(0);

    // The same end state as an undisturbed run.
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-slot')).toMatch(/\.original$/);
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
    expect(
      await stack.sql<{ name: string; n: string }>('select name, count(*) as n from cutover_migrations group by name order by name'),
    ).toEqual([
      { name: '0001_create_notes.sql', n: '1' },
      { name: '0002_add_author.sql', n: '1' },
    ]);
  }, 300_000);

  test('killed while completing and while resetting: both still finish', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3, write: false });
    const reset = await stack.deploy('examples/demo-app/v1', 'readonly', { allowMissingMigrations: true });
    await stack.waitForPhase(reset, ['awaiting-verification'], 120_000);
    await stack.killWorker();
    await stack.startWorker({ CUTOVER_CRASH_AT: 'routePublicTraffic' }); // the switch back to the previous version
    expect((await stack.api('POST', `/v1/deployments/${reset}/reset`, { rollbackDatabase: true })).status).toBe(200);
    expect(await stack.workerExited()).toBe('SIGKILL');
    await stack.startWorker();
    await stack.waitForPhase(reset, ['reset'], 120_000);
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('2.0.0');

    const complete = await stack.deploy('examples/demo-app/v2', 'readonly');
    await stack.waitForPhase(complete, ['awaiting-verification'], 120_000);
    await stack.killWorker();
    await stack.startWorker({ CUTOVER_CRASH_AT: 'dropTemporaryDatabase' }); // after the switch, before clean-up
    expect((await stack.api('POST', `/v1/deployments/${complete}/complete`, {})).status).toBe(200);
    expect(await stack.workerExited()).toBe('SIGKILL');
    await stack.startWorker();
    await stack.waitForPhase(complete, ['completed'], 120_000);
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 300_000);
});
