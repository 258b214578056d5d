/**
 * Analysis during verification, end to end: a package that answers 500 on 20% of GET /notes warms up fine;
 * the environment's analysis catches it and Resets the deployment by itself while public reads keep working.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { launchBrowser, openContext } from '../console/browser.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

const faulty = 'examples/faulty/errors-20-percent';
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// 20 requests, one in five answered 500: 4 failures against a limit of 1.
const analysis = '{ checks: [{ path: /notes, requests: 20, interval: 100ms, maxLatency: 5s, failureLimit: 1 }] }';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ analysis });
  await stack.deployAndComplete('examples/demo-app/v1');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

const version = async () => (await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version');
const logOf = async (id: string) => (await stack.api('GET', `/v1/deployments/${id}/log`)).text;

describe('analysis during verification', () => {
  test('a failed analysis Resets the deployment by itself; public reads never fail', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 3, write: false });
    const id = await stack.deploy(faulty);
    const done = await stack.waitForPhase(id, ['reset'], 120_000);
    await stack.recordHistory(id, 'analysis-failed-reset');
    const report = await traffic.stop();
    expect(report.reads).toBeGreaterThan(0);
    expect(report.failedReads).toEqual([]);

    expect(done.decision).toMatchObject({ action: 'reset', rollbackDatabase: false, reason: expect.stringMatching(/^analysis failed: /) });
    expect(done.decision.requestedBy).toBeUndefined();
    expect(done.analysis).toMatchObject({ state: 'finished', verdict: 'fail' });
    expect(done.analysis.checks).toEqual([
      expect.objectContaining({
        site: 'web',
        path: '/notes',
        requests: 20,
        failures: 4,
        errorRate: 0.2,
        verdict: 'fail',
        reason: expect.stringContaining('4 × HTTP 500'),
        // The live version (the clone of v1) answered the same requests.
        live: expect.objectContaining({ requests: 20, failures: 0, errorRate: 0 }),
      }),
    ]);
    const log = await logOf(id);
    expect(log).toContain('Analysis evidence: fail: site web GET /notes on the preview: 20 requests, 4 failed (20%)');
    expect(log).toContain('Reset (roll back code only) requested: analysis failed: ');
    expect(await version()).toBe('1.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);

    // The console's deployment page shows the same evidence.
    const served = await stack.serveApi();
    const browser = await launchBrowser();
    try {
      const { page } = await openContext(browser, 'desktop');
      await page.goto(`${served.url}/console/deployments/${id}`);
      await page.waitForSelector('[data-field="analysis"]:not([hidden])', { timeout: 30_000 });
      expect(await page.textContent('[data-field="analysis-summary"]')).toMatch(/^fail: 1 of 1 checks and metrics failed/);
      expect(await page.textContent('[data-field="analysis-evidence"]')).toContain(
        'web GET /notes: fail · preview 20 requests, 4 failed (20%), p99',
      );
    } finally {
      await browser.close();
      await served.close();
    }
  }, 180_000);

  test('the same package with analysis off waits for a person', async () => {
    const id = await stack.deploy(faulty, 'readonly', { analysis: false });
    const waiting = await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    expect(waiting.analysis).toBeNull();
    expect(await logOf(id)).toContain('Analysis is turned off for this deployment by its request');
    // The preview does fail one read in five: only the analysis would have acted on it.
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await fetch(`${stack.previewUrl()}/notes`)).status);
    expect(statuses.filter((s) => s === 500)).toHaveLength(1);
    // Longer than the analysis would have taken (20 requests, 100 ms apart): still nobody decided.
    await new Promise((r) => setTimeout(r, 4_000));
    const still = await stack.api('GET', `/v1/deployments/${id}`);
    expect(still.body).toMatchObject({ phase: 'awaiting-verification', decision: null, actions: ['complete', 'reset'], analysis: null });

    expect((await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: false })).status).toBe(200);
    await stack.waitForPhase(id, ['reset']);
    expect(await version()).toBe('1.0.0');
  }, 180_000);

  test('a request whose analysis is wrong is refused, naming the field', async () => {
    const r = await stack.api('POST', `/v1/environments/${stack.environment}/deployments`, {
      package: join(repoRoot, faulty),
      analysis: { checks: [{ path: 'notes', requests: 'many' }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toBe(
      'body.analysis.checks[0].path: must start with "/"; body.analysis.checks[0].requests: must be a whole number, got string "many"',
    );
  });

  test('a request may query only a Prometheus its environment names: the host agent would fetch any other address', async () => {
    const r = await stack.api('POST', `/v1/environments/${stack.environment}/deployments`, {
      package: join(repoRoot, faulty),
      analysis: { metrics: [{ prometheus: 'http://169.254.169.254/', query: 'up', max: 1 }] },
    });
    expect(r.status).toBe(400);
    expect(r.body.error.fields).toEqual([
      {
        field: 'body.analysis.metrics[0].prometheus',
        message: "must be a Prometheus the environment's configuration names (none)",
      },
    ]);
    expect((await stack.api('GET', `/v1/environments/${stack.environment}`)).body.runningDeployment).toBeNull();
  });
});
