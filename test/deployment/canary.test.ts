/**
 * Canary steps end to end (expand-contract, real router, host agent, Temporal): a package that verifies fine and breaks
 * under public traffic takes 10% of public clients; the router's counts of the canary slot breach the threshold, the
 * share goes to 0 and the deployment Resets by itself; readers see the live version throughout and after.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { dataPlaneSchema } from '../../src/config/data-plane-schema.js';
import { startTestStack, type TestStack } from '../support/stack.js';

const faulty = 'examples/faulty/fails-after-complete';
const canary = { steps: [10, 50], interval: '2s', maxErrorRate: 0.1 };

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  // Every migration of the faulty package is applied: nothing is pending, so expand-contract mode takes it.
  await stack.deployAndComplete('examples/demo-app/v2');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

describe('canary steps', () => {
  test('a breaching canary goes to 0% and Resets by itself with the evidence; the live version keeps every reader', async () => {
    const id = await stack.deploy(faulty, 'expand-contract', { canary });
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    // Readers without cookies: each draws a bucket, so about one in ten meets the canary at 10%.
    const versions = new Map<string, number>();
    let done = false;
    const reading = (async () => {
      while (!done) {
        const response = await fetch(`${stack.publicUrl()}/notes`);
        await response.arrayBuffer();
        const key = `${response.headers.get('x-app-version')} ${response.status}`;
        versions.set(key, (versions.get(key) ?? 0) + 1);
      }
    })();
    try {
      const ended = await stack.waitForPhase(id, ['reset'], 120_000);
      await stack.recordHistory(id, 'canary-breached-reset');
      expect(ended.canary).toMatchObject({ state: 'ended', percent: 0, verdict: 'fail' });
      expect(ended.canary.breach).toMatch(/^site web: error rate \d+(\.\d)?% above 10%/);
      expect(ended.canary.steps.at(-1).traffic[0].failures).toBeGreaterThan(0);
      expect(ended.decision).toMatchObject({ action: 'reset', reason: expect.stringContaining('canary breached at') });
    } finally {
      done = true;
      await reading;
    }
    console.info(`canary: public answers by version and status ${JSON.stringify(Object.fromEntries(versions))}`);
    expect(versions.get('2.0.1-fails-after-complete 200')).toBeGreaterThan(0);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('Canary breached at');
    expect(log).toContain('Canary removed: every public client is on the live version');
    for (let i = 0; i < 10; i++) {
      const response = await fetch(`${stack.publicUrl()}/notes`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-app-version')).toBe('2.0.0');
    }
  }, 300_000);

  test('a canary that holds: about 50% of new clients at the last step, sticky clients never change side, Complete moves everyone', async () => {
    const id = await stack.deploy('examples/demo-app/v3', 'expand-contract', {
      canary: { steps: [10, 50], interval: '1s', maxErrorRate: 0.5, allow: [{ header: 'X-Cutover-Canary', value: 'tester' }] },
    });
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    const holding = await waitForCanary(id, 'holding');
    // A tester the request names reaches the new version whatever its bucket.
    for (const bucket of [0, 9999]) {
      const headers = { cookie: `cutover_canary=${bucket}`, 'x-cutover-canary': 'tester' };
      const response = await fetch(`${stack.publicUrl()}/notes`, { headers });
      await response.arrayBuffer();
      expect(response.headers.get('x-app-version')).toBe('3.0.0');
    }
    expect(holding.canary).toMatchObject({ percent: 50, stepsDone: 2, verdict: 'pass' });
    expect(holding.canary.steps.map((s: { percent: number }) => s.percent)).toEqual([10, 50]);

    // New clients (no cookie) draw a bucket each: about half meet the canary.
    let onCanary = 0;
    const total = 400;
    for (let i = 0; i < total; i++) {
      const response = await fetch(`${stack.publicUrl()}/notes`);
      await response.arrayBuffer();
      if (response.headers.get('x-app-version') === '3.0.0') onCanary++;
    }
    console.info(`canary at 50%: ${onCanary} of ${total} new clients on the canary`);
    expect(Math.abs(onCanary / total - 0.5)).toBeLessThan(0.1);

    // A client keeps its bucket's side on every request: below 5000 (50% × 100) the canary, else the live version.
    for (const bucket of [0, 1234, 4999, 5000, 7777, 9999]) {
      const seen = new Set<string>();
      for (let i = 0; i < 5; i++) {
        const response = await fetch(`${stack.publicUrl()}/notes`, { headers: { cookie: `cutover_canary=${bucket}` } });
        await response.arrayBuffer();
        seen.add(response.headers.get('x-app-version') ?? 'none');
      }
      expect([...seen]).toEqual([bucket < 5000 ? '3.0.0' : '2.0.0']);
    }

    expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
    const done = await stack.waitForPhase(id, ['completed'], 120_000);
    expect(done.canary).toMatchObject({ state: 'ended', verdict: 'pass' });
    for (const bucket of [0, 9999]) {
      const response = await fetch(`${stack.publicUrl()}/notes`, { headers: { cookie: `cutover_canary=${bucket}` } });
      await response.arrayBuffer();
      expect(response.headers.get('x-app-version')).toBe('3.0.0');
    }
  }, 300_000);
  test('on HAProxy or nginx a canary is refused before anything starts, naming the field', async () => {
    const environment = stack.config.environments[stack.environment]!;
    const onHaproxy = {
      ...environment,
      dataPlane: dataPlaneSchema.parse({ adapter: 'haproxy', dir: join(stack.config.stateDir, 'haproxy') }),
    };
    const config = { ...stack.config, environments: { ...stack.config.environments, [stack.environment]: onHaproxy } };
    const app = createApp(createApiDeps(config, stack.client, stack.env));
    const response = await app.request(`/v1/environments/${stack.environment}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ package: join(process.cwd(), faulty), mode: 'expand-contract', canary }),
    });
    const body = (await response.json()) as { error: { fields: unknown } };
    expect(response.status).toBe(400);
    expect(body.error.fields).toEqual([
      { field: 'body.canary', message: "needs the built-in router: this environment's data plane is haproxy, which has no canary" },
    ]);
    expect((await stack.api('GET', `/v1/environments/${stack.environment}`)).body.runningDeployment).toBeNull();
  });
});

/** Polls the deployment until its canary reaches `state`. */
async function waitForCanary(id: string, state: string) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await stack.api('GET', `/v1/deployments/${id}`)).body;
    if (status.canary?.state === state) return status;
    if (Date.now() > deadline) throw new Error(`canary ${state} not reached: ${JSON.stringify(status.canary)} in ${status.phase}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
