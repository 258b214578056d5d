/**
 * A zdd site and a maintenance-page site: after every failure class, no process of the failed package runs on any
 * site, and each site is where the README says (before traffic moved: exactly as it was; after: in maintenance).
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { FailureClass } from '../../src/failures.js';
import { createSlotSupervisor } from '../../src/platform/agent/slots.js';
import { slotsDirOf } from '../../src/platform/agent/activities.js';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    sites: [
      { name: 'web', role: 'zdd' },
      { name: 'backoffice', role: 'maintenance-page' },
    ],
    warmupTimeout: '4s',
  });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

async function runningSlots() {
  const env = stack.config.environments[stack.environment]!;
  const slots = await createSlotSupervisor({ slotsDir: slotsDirOf(stack.config.stateDir, env.host) }).list();
  return slots.filter((s) => s.state === 'running');
}

async function answer(site: string) {
  const res = await fetch(`${stack.publicUrl(site)}/notes`);
  return {
    status: res.status,
    slot: res.headers.get('x-slot'),
    version: res.headers.get('x-app-version'),
    retryAfter: res.headers.get('retry-after'),
  };
}

async function fail(pkg: string, expected: FailureClass, mode = 'readonly') {
  const id = await stack.deploy(pkg, mode);
  const status = await stack.waitForPhase(id, ['failed']);
  expect(status.failure.class).toBe(expected);
  const version = pkg.split('/').pop()!;
  const leftovers = (await runningSlots()).filter((s) => s.packageVersion.endsWith(version));
  expect(leftovers.map((s) => s.slotId)).toEqual([]);
  return { id, status };
}

/** After traffic moved: web is served by its clone, backoffice shows the maintenance page. */
async function expectInMaintenance() {
  expect((await answer('web')).slot).toMatch(/\.temporary$/);
  expect(await answer('backoffice')).toMatchObject({ status: 503, retryAfter: '30' });
  expect((await stack.api('GET', `/v1/environments/${stack.environment}`)).body.inMaintenance).toBe(true);
}

async function resetFrom(id: string) {
  expect((await stack.api('POST', `/v1/deployments/${id}/reset`, { rollbackDatabase: true })).status).toBe(200);
  await stack.waitForPhase(id, ['reset']);
  for (const site of ['web', 'backoffice']) expect((await answer(site)).slot).toMatch(/\.original$/);
}

describe('two sites, every failure class', () => {
  for (const [pkg, failureClass] of [
    ['examples/faulty/warmup-500', 'warmup-failed'],
    ['examples/faulty/warmup-403', 'ip-forbidden'],
    ['examples/faulty/exits-at-startup', 'startup-error'],
  ] as const) {
    test(`${failureClass}: both sites stay in maintenance, the failed package runs nowhere`, async () => {
      const { id, status } = await fail(pkg, failureClass);
      expect(status.sites.map((s: { name: string; state: string }) => s.name)).toEqual(['web', 'backoffice']);
      await expectInMaintenance();
      await resetFrom(id);
      if (failureClass === 'startup-error') await stack.recordHistory(id, 'two-sites-failed-then-reset');
    }, 120_000);
  }

  test('migration-failed: in maintenance, the failed package never started; a fixed package resumes', async () => {
    await fail('examples/faulty/bad-migration', 'migration-failed');
    await expectInMaintenance();
    await stack.deployAndComplete('examples/demo-app/v2');
    for (const site of ['web', 'backoffice']) expect(await answer(site)).toMatchObject({ status: 200, version: '2.0.0' });
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 120_000);

  test('readonly-not-supported: no traffic moved, so both sites are exactly as they were', async () => {
    await stack.deployAndComplete('examples/faulty/writes-at-startup', 'readwrite');
    const before = await Promise.all(
      ['web', 'backoffice'].map(async (site) => (await fetch(`${stack.publicUrl(site)}/healthz`)).headers.get('x-slot')),
    );
    const { id, status } = await fail('examples/demo-app/v2', 'readonly-not-supported');
    expect(status.failure.site).toBe('web');
    const after = await Promise.all(
      ['web', 'backoffice'].map(async (site) => (await fetch(`${stack.publicUrl(site)}/healthz`)).headers.get('x-slot')),
    );
    expect(after).toEqual(before);
    expect((await stack.api('GET', `/v1/environments/${stack.environment}`)).body.inMaintenance).toBe(false);
    expect((await runningSlots()).filter((s) => s.databases === 'temporary')).toEqual([]);
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
    const resumed = await stack.deployAndComplete('examples/demo-app/v2', 'readwrite');
    expect(resumed.phase).toBe('completed');
    await stack.recordHistory(id, 'clone-failed-superseded');
  }, 150_000);
});
