import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let stack: TestStack;
const site = (name: string) => stack.config.environments[stack.environment]!.sites.find((s) => s.name === name)!;
const slotOf = async (name: string) => (await fetch(`${stack.publicUrl(name)}/notes`)).headers.get('x-slot');

beforeAll(async () => {
  stack = await startTestStack({ sites: [{ name: 'web', role: 'zdd' }, { name: 'api', role: 'zdd' }], warmupTimeout: '3s' });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

describe('multi-site partial failure', () => {
  test('one site fails to enter maintenance: the log names it and the sites left in maintenance; the re-run takes them as they are', async () => {
    const web = startTraffic(stack.publicUrl('web'), { readers: 2, write: false });
    const api = startTraffic(stack.publicUrl('api'), { readers: 2, write: false });
    site('api').warmupPath = '/missing'; // an operator's mistake in cutover.yaml: the api clone never answers 200

    const failed = await stack.deploy('examples/demo-app/v2');
    const status = await stack.waitForPhase(failed, ['failed']);
    expect(status.failure).toMatchObject({ class: 'warmup-failed', site: 'api' });
    expect(status.sites.map((s: any) => [s.name, s.state])).toEqual([
      ['web', 'in-maintenance'],
      ['api', 'failed'],
    ]);
    const log = (await stack.api('GET', `/v1/deployments/${failed}/log`)).text;
    expect(log).toContain('Enabling zero downtime deployment mode readonly on site web');
    expect(log).toContain('Enabling zero downtime deployment mode readonly on site api');
    expect(log).toContain('Site api could not enter maintenance mode');
    expect(log).toContain('Sites left in maintenance mode: web');
    expect(log).toContain('At least one maintenance mode operation failed. Investigate the logs and try again.');
    expect(log).not.toContain('All sites in this deployment are now in maintenance mode');
    expect(await slotOf('web')).toMatch(/\.temporary$/);
    expect(await slotOf('api')).toMatch(/\.original$/);

    site('api').warmupPath = undefined; // fixed
    const resumed = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(resumed, ['awaiting-verification']);
    const resumedLog = (await stack.api('GET', `/v1/deployments/${resumed}/log`)).text;
    expect(resumedLog).toContain('Already in maintenance mode from an earlier deployment: web. Resuming from there.');
    expect(resumedLog).toContain('Temporary copy of database app already serves a clone: keeping it');
    expect(resumedLog).toContain('Enabling zero downtime deployment mode readonly on site api');
    expect(resumedLog).not.toContain('Enabling zero downtime deployment mode readonly on site web');
    expect(resumedLog).toContain('All sites in this deployment are now in maintenance mode');
    await stack.api('POST', `/v1/deployments/${resumed}/complete`, {});
    await stack.waitForPhase(resumed, ['completed']);

    const reports = await Promise.all([web.stop(), api.stop()]);
    for (const report of reports) expect(report.failedReads).toEqual([]);
    for (const name of ['web', 'api']) expect((await fetch(`${stack.publicUrl(name)}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 180_000);
});
