import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startFlakyProxy } from '../support/flaky-proxy.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
let proxy: Awaited<ReturnType<typeof startFlakyProxy>>;

beforeAll(async () => {
  proxy = await startFlakyProxy(inject('pgPort'));
  stack = await startTestStack({ databaseUrl: (url) => url.replace(`:${inject('pgPort')}/`, `:${proxy.port}/`) });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
  await proxy?.close();
});

describe('transient failures', () => {
  test('a database that refuses connections for a few seconds: retried with backoff, the deployment completes', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 2, write: false });
    await new Promise((r) => setTimeout(r, 300)); // the live site's pool holds its connections
    proxy.refuseNewConnectionsFor(6000);
    const id = await stack.deploy('examples/demo-app/v2');
    const status = await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    expect(proxy.refused).toBeGreaterThan(0);
    expect(status.failure).toBeNull();
    // Temporal retried the steps that met the refusal: the history shows more than one attempt.
    const history = await stack.client.workflow.getHandle(id).fetchHistory();
    const retried = (history.events ?? []).some((e) => (e.activityTaskStartedEventAttributes?.attempt ?? 1) > 1);
    expect(retried).toBe(true);
    await stack.api('POST', `/v1/deployments/${id}/complete`, {});
    await stack.waitForPhase(id, ['completed']);
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
  }, 180_000);
});
