/**
 * The builtin analysis metrics, end to end: the host agent reads the real router's counts of the preview's real traffic
 * (and the live version's beside it); a package that answers 500 on 20% of GET /notes fails `error-rate`, and a preview
 * nobody visits is inconclusive (no traffic decides nothing).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';

const faulty = 'examples/faulty/errors-20-percent';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.deployAndComplete('examples/demo-app/v1');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

/** Reads /notes on both addresses until stopped: the preview's real traffic, and the live version's. */
function readers() {
  let running = true;
  const loop = async (url: string) => {
    while (running) {
      await fetch(`${url}/notes`)
        .then((r) => r.arrayBuffer())
        .catch(() => undefined);
      await new Promise((r) => setTimeout(r, 40));
    }
  };
  const done = Promise.all([loop(stack.previewUrl()), loop(stack.publicUrl())]);
  return async () => {
    running = false;
    await done;
  };
}

describe('builtin analysis metrics from the router', () => {
  test("the preview's error rate from the router fails the analysis; the live version's stands beside it", async () => {
    const analysis = { metrics: [{ builtin: 'error-rate', max: 0.1, samples: 2, interval: '2s' }] };
    const id = await stack.deploy(faulty, 'readonly', { analysis });
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    const stop = readers();
    const done = await stack.waitForPhase(id, ['reset'], 60_000).finally(stop);
    expect(done.analysis).toMatchObject({ state: 'finished', verdict: 'fail' });
    const metric = done.analysis.metrics[0];
    expect(metric).toMatchObject({ name: 'error-rate', verdict: 'fail', breaches: 2 });
    expect(metric.values.every((v: number) => v > 0.1 && v < 0.3)).toBe(true);
    expect(metric.preview.requests).toBeGreaterThan(10);
    expect(metric.preview.failures).toBeGreaterThan(0);
    expect(metric.live).toMatchObject({ failures: 0, errorRate: 0 });
    expect(metric.live.requests).toBeGreaterThan(10);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toMatch(
      /Analysis evidence: fail: metric error-rate \(max 0\.1\): .*; preview traffic: \d+ requests, \d+ failed .*; live: \d+ requests, 0 failed/,
    );
  }, 180_000);

  test('a preview without traffic is inconclusive: the deployment waits for a person', async () => {
    const analysis = { metrics: [{ builtin: 'p99', max: 500, samples: 1, interval: '1s' }] };
    const id = await stack.deploy(faulty, 'readonly', { analysis });
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    let status: any;
    for (let i = 0; i < 100; i++) {
      status = (await stack.api('GET', `/v1/deployments/${id}`)).body;
      if (status.analysis?.state === 'finished') break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toMatchObject({ phase: 'awaiting-verification', decision: null, analysis: { verdict: 'inconclusive' } });
    expect(status.analysis.metrics[0].reason).toContain('no traffic on the preview');
    expect((await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: false })).status).toBe(200);
    await stack.waitForPhase(id, ['reset']);
  }, 180_000);
});
