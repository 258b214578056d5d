/**
 * Bake after Complete, end to end: a package that verifies fine and breaks once public traffic reaches it. After
 * Complete the previous version (the clone) stays warm; the host agent reads the router's counts of the new live slot
 * every interval, and the breach sends public traffic back to the clone by itself.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';

const faulty = 'examples/faulty/fails-after-complete';
const bake = { duration: '60s', interval: '2s', thresholds: { maxErrorRate: 0.1 } };

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack();
  await stack.deployAndComplete('examples/demo-app/v1');
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

describe('bake after Complete', () => {
  test('a version that starts failing after Complete is rolled back within the bake interval; readers see the previous version again', async () => {
    const id = await stack.deploy(faulty, 'readonly', { bake });
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
    const baking = await stack.waitForPhase(id, ['baking'], 60_000);
    expect(baking.bake).toMatchObject({ state: 'watching', spec: { durationMs: 60_000, intervalMs: 2_000, maxErrorRate: 0.1 } });

    // A reader on the public address: the new version's first 500, then the previous version again.
    let first500: number | null = null;
    let backAt: number | null = null;
    const deadline = Date.now() + 60_000;
    while (backAt === null && Date.now() < deadline) {
      const response = await fetch(`${stack.publicUrl()}/notes`);
      await response.arrayBuffer();
      const version = response.headers.get('x-app-version');
      if (response.status === 500 && first500 === null) first500 = Date.now();
      if (first500 !== null && version === '1.0.0' && response.status === 200) backAt = Date.now();
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(first500).not.toBeNull();
    expect(backAt).not.toBeNull();
    console.info(`bake: ${backAt! - first500!} ms from the first 500 to public traffic back on the previous version (interval 2 s)`);

    const done = await stack.waitForPhase(id, ['rolled-back'], 60_000);
    await stack.recordHistory(id, 'bake-rolled-back');
    expect(done.bake).toMatchObject({ state: 'rolled-back', breach: expect.stringMatching(/^site web: error rate \d+(\.\d)?% above 10%/) });
    expect(done.bake.last[0]).toMatchObject({ site: 'web', failures: expect.any(Number) });
    expect(done.bake.last[0].failures).toBeGreaterThan(0);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('Bake breached: site web: error rate');
    expect(log).toContain('Deployment rolled back automatically after Complete');
    // Readers keep getting the previous version.
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${stack.publicUrl()}/notes`);
      expect(response.status).toBe(200);
      expect(response.headers.get('x-app-version')).toBe('1.0.0');
    }
    // The environment is free again, and a fixed package rolls forward from the clones.
    const fixed = await stack.deployAndComplete('examples/demo-app/v2');
    expect(fixed.phase).toBe('completed');
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 300_000);
});
