import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
const site = (name: string) => stack.config.environments[stack.environment]!.sites.find((s) => s.name === name)!;
const slotOf = async (name: string) => (await fetch(`${stack.publicUrl(name)}/notes`)).headers.get('x-slot');

beforeAll(async () => {
  stack = await startTestStack({
    sites: [
      { name: 'web', role: 'zdd' },
      { name: 'api', role: 'zdd' },
    ],
    warmupTimeout: '3s',
  });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

describe('multi-site failure to enter maintenance', () => {
  test("one site's clone fails its warm-up: no site moves, the log names it; the re-run enters maintenance on both", async () => {
    const web = startTraffic(stack.publicUrl('web'), { readers: 2, write: false });
    const api = startTraffic(stack.publicUrl('api'), { readers: 2, write: false });
    site('api').warmupPath = '/missing'; // an operator's mistake in cutover.yaml: the api clone never answers 200

    const failed = await stack.deploy('examples/demo-app/v2');
    const status = await stack.waitForPhase(failed, ['failed']);
    expect(status.failure).toMatchObject({ class: 'warmup-failed', site: 'api' });
    expect(status.sites.map((s: any) => [s.name, s.state])).toEqual([
      ['web', 'live'],
      ['api', 'failed'],
    ]);
    const log = (await stack.api('GET', `/v1/deployments/${failed}/log`)).text;
    expect(log).toContain('Enabling zero downtime deployment mode readonly on site web');
    expect(log).toContain('Enabling zero downtime deployment mode readonly on site api');
    expect(log).toContain('Site api could not enter maintenance mode');
    expect(log).toContain('No site changed: every site still serves its live version.');
    expect(log).toContain('At least one maintenance mode operation failed. Investigate the logs and try again.');
    expect(log).not.toContain('All sites in this deployment are now in maintenance mode');
    expect(await slotOf('web')).toMatch(/\.original$/);
    expect(await slotOf('api')).toMatch(/\.original$/);
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);

    site('api').warmupPath = undefined; // fixed
    const resumed = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(resumed, ['awaiting-verification']);
    const resumedLog = (await stack.api('GET', `/v1/deployments/${resumed}/log`)).text;
    expect(resumedLog).not.toContain('Already in maintenance mode');
    expect(resumedLog).toContain('Copying database app to a temporary database');
    expect(resumedLog).toContain('All sites in this deployment are now in maintenance mode');
    await stack.api('POST', `/v1/deployments/${resumed}/complete`, {});
    await stack.waitForPhase(resumed, ['completed']);

    const reports = await Promise.all([web.stop(), api.stop()]);
    for (const report of reports) expect(report.failedReads).toEqual([]);
    for (const name of ['web', 'api']) expect((await fetch(`${stack.publicUrl(name)}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 180_000);
});
