import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    sites: [
      { name: 'web', role: 'zdd' },
      { name: 'scheduler', role: 'maintenance-page' },
    ],
  });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

describe('modes and site roles', () => {
  test('a zdd site is served by its clone while a maintenance-page site shows the maintenance page', async () => {
    const traffic = startTraffic(stack.publicUrl('web'), { readers: 2 });
    const id = await stack.deploy('examples/demo-app/v2', 'readonly');
    const status = await stack.waitForPhase(id, ['awaiting-verification']);
    expect(status.sites.map((s: { name: string; serving: string }) => [s.name, s.serving])).toEqual([
      ['web', expect.stringMatching(/\.temporary$/)],
      ['scheduler', 'maintenance-page'],
    ]);
    const page = await fetch(`${stack.publicUrl('scheduler')}/`);
    expect(page.status).toBe(503);
    expect(page.headers.get('retry-after')).toBe('30');
    expect(await page.text()).toContain('scheduler');
    expect((await fetch(`${stack.previewUrl('scheduler')}/notes`)).headers.get('x-app-version')).toBe('2.0.0');

    // At most one deployment per environment: the second request is refused, naming the first.
    const busy = await stack.api('POST', `/v1/environments/${stack.environment}/deployments`, {
      package: resolve('examples/demo-app/v1'),
      mode: 'readonly',
    });
    expect(busy.status).toBe(409);
    expect(busy.body.error.code).toBe('environment-busy');
    expect(busy.body.error.message).toContain(id);

    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('Enabling zero downtime deployment mode readonly on site web');
    expect(log).toContain('Putting site scheduler in maintenance mode');
    expect(log).toContain('All sites in this deployment are now in maintenance mode');
    const env = await stack.api('GET', `/v1/environments/${stack.environment}`);
    expect(env.body).toMatchObject({ inMaintenance: true, runningDeployment: id, livePackage: { version: '1.0.0' } });

    await stack.api('POST', `/v1/deployments/${id}/complete`, {});
    await stack.waitForPhase(id, ['completed']);
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect((await fetch(`${stack.publicUrl('scheduler')}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
    const after = await stack.api('GET', `/v1/environments/${stack.environment}`);
    expect(after.body).toMatchObject({
      inMaintenance: false,
      runningDeployment: null,
      livePackage: { version: '2.0.0' },
      lastDeployment: { deploymentId: id, outcome: 'completed' },
    });
  }, 180_000);

  test('maintenance-page mode: no clone, no temporary database, every site shows the maintenance page', async () => {
    const id = await stack.deploy('examples/demo-app/v1', 'maintenance-page', { allowMissingMigrations: true });
    await stack.waitForPhase(id, ['awaiting-verification']);
    for (const site of ['web', 'scheduler']) {
      const res = await fetch(`${stack.publicUrl(site)}/`, { headers: { accept: 'application/json' } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('30');
    }
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`, `${stack.environment}_app__cutover_rp`]);
    const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
    expect(log).toContain('Putting site web in maintenance mode');
    expect(log).not.toContain('Copying database');
    await stack.api('POST', `/v1/deployments/${id}/complete`, {});
    await stack.waitForPhase(id, ['completed']);
    expect((await fetch(`${stack.publicUrl('web')}/notes`)).headers.get('x-app-version')).toBe('1.0.0');
  }, 180_000);

  test('readwrite mode says clearly that writes to the clone will be lost', async () => {
    const id = await stack.deploy('examples/demo-app/v2', 'readwrite');
    const status = await stack.waitForPhase(id, ['awaiting-verification']);
    expect(status.warnings.join(' ')).toMatch(/writes accepted by the clone .* are lost/);
    const write = await fetch(`${stack.publicUrl('web')}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'to the clone' }),
    });
    expect(write.status).toBe(201);
    await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: false });
    await stack.waitForPhase(id, ['reset']);
  }, 180_000);
});
