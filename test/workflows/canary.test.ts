/** Canary steps in expand-contract mode: real workflow code on the real Temporal server, a fake platform (its traffic set by the test). */
import { afterEach, describe, expect, test } from 'vitest';
import { startDeploymentBody } from '../../src/api/schemas.js';
import type { CanarySpec } from '../../src/workflows/canary-definitions.js';
import { completeUpdate, logQuery, resetUpdate, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { startDeployment, v1, v2, waitForStatus, webSlot, type DeploymentHandle } from './deployments.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const testers = [{ header: 'X-Cutover-Canary', value: 'tester' }];
const canary: CanarySpec = { steps: [10, 50], intervalMs: 300, maxErrorRate: 0.1, maxP99Ms: 1_000, allow: testers };
const start = (harness: Harness, id: string) => startDeployment(harness, id, { mode: 'expand-contract', canary });
const log = async (handle: DeploymentHandle) => (await handle.query(logQuery, {})).lines.map((l) => l.message).join('\n');

/** Each setCanary call: its percent, or null when it removed the canary. */
function canaryCalls(harness: Harness): Array<number | null> {
  return harness.fake.calls
    .filter((c) => c.startsWith('setCanary '))
    .map((c) => (JSON.parse(c.slice('setCanary '.length)) as { canary: { percent: number } | null }).canary?.percent ?? null);
}

describe('canary steps (expand-contract)', () => {
  test('steps in order; no breach: the share stays at the last step until a person Completes, whose switch ends it', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    const handle = await start(h, 'holds');
    const holding = await waitForStatus(handle, 'canary holding', (s) => s.canary?.state === 'holding');
    expect(holding.phase).toBe('awaiting-verification');
    expect(holding.canary).toMatchObject({ percent: 50, stepsDone: 2, verdict: 'pass', breach: null });
    expect(holding.canary!.steps.map((s) => s.percent)).toEqual([10, 50]);
    expect(holding.canary!.steps[0]!.traffic[0]).toMatchObject({ site: 'web', slotId: webSlot(h, v2), requests: 50, failures: 0 });
    expect(canaryCalls(h)).toEqual([10, 50]);
    // Testers named by the request reach the new version at every step.
    const sent = h.fake.calls.filter((c) => c.startsWith('setCanary ')).map((c) => JSON.parse(c.slice('setCanary '.length)));
    expect(sent.map((c: { canary: { allow?: unknown } }) => c.canary.allow)).toEqual([testers, testers]);
    // The canary slot is the new version's; public traffic's live target is still the old version.
    expect(h.fake.canaries.web).toEqual({ slotId: webSlot(h, v2), percent: 50 });
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: webSlot(h, v1) });
    // Both versions' copies serve public clients while the canary holds its share.
    const stateOf = (status: DeploymentStatus, slotId: string) => status.sites[0]!.replicas!.find((r) => r.slotId === slotId)?.state;
    expect([stateOf(holding, webSlot(h, v1)), stateOf(holding, webSlot(h, v2))]).toEqual(['serving', 'serving']);

    await handle.executeUpdate(completeUpdate, { args: [{ requestedBy: 'ana' }] });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('completed');
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: webSlot(h, v2) });
    expect(h.fake.canaries.web).toBeNull();
    expect(status.canary).toMatchObject({ state: 'ended', verdict: 'pass' });
    expect(await log(handle)).toContain('Canary held at every step: 50% of public clients stay on 2.0.0');
  }, 30_000);

  test('a breach sets the share to 0 and Resets by itself, with the evidence; the canary is removed, the old version serves', async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    h.fake.bakeTraffic.failingAt = 50;
    const handle = await start(h, 'breach');
    const status = (await handle.result()) as DeploymentStatus;

    expect(status.phase).toBe('reset');
    expect(canaryCalls(h)).toEqual([10, 50, 0, null]);
    expect(status.canary).toMatchObject({ state: 'ended', percent: 0, stepsDone: 2, verdict: 'fail' });
    expect(status.canary!.breach).toContain('site web: error rate 50% above 10% (25 of 50 requests)');
    expect(status.canary!.steps.map((s) => s.traffic[0]!.failures)).toEqual([0, 25]);
    expect(status.decision).toMatchObject({
      action: 'reset',
      rollbackDatabase: false,
      reason: expect.stringContaining('canary breached at 50%'),
    });
    expect(h.fake.canaries.web).toBeNull();
    expect(h.fake.routes.web!.live).toMatchObject({ slotId: webSlot(h, v1) });
    expect(h.fake.running().map((s) => s.packageVersion)).toEqual(['1.0.0']);
    expect(status.sites[0]!.replicas!.find((r) => r.slotId === webSlot(h!, v2))?.state).toBe('stopped');
    const text = await log(handle);
    expect(text).toContain('Canary breached at 50%: site web: error rate 50% above 10%');
    expect(text).toContain('Canary at 50%: site web:');
  }, 30_000);

  test("a person's Reset while the canary holds removes it before the new version stops", async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    const handle = await start(h, 'reset');
    await waitForStatus(handle, 'canary holding', (s) => s.canary?.state === 'holding');
    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false, requestedBy: 'ana' }] });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('reset');
    expect(canaryCalls(h)).toEqual([10, 50, null]);
    const removed = h.fake.calls.findIndex((c) => c.startsWith('setCanary ') && c.includes('"canary":null'));
    const stopped = h.fake.calls.findIndex((c) => c.startsWith('stopSlot ') && c.includes(webSlot(h!, v2)));
    expect(removed).toBeGreaterThan(-1);
    expect(stopped).toBeGreaterThan(removed);
  }, 30_000);
});

describe('canary in a request', () => {
  const body = { package: 'sha256:abc', mode: 'expand-contract', canary: { steps: [10, 50], interval: '1m', maxErrorRate: 0.05 } };
  const issues = (input: unknown) => startDeploymentBody.safeParse(input).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`);

  test('accepted in expand-contract mode', () => {
    expect(startDeploymentBody.safeParse(body).success).toBe(true);
  });

  test('refused in another mode, naming the field', () => {
    expect(issues({ ...body, mode: 'readonly' })).toEqual([
      'canary: only applies to mode expand-contract (old and new versions must share the databases)',
    ]);
  });

  test('steps must ascend within 1..100; a threshold is required', () => {
    expect(issues({ ...body, canary: { ...body.canary, steps: [50, 10] } })).toEqual([
      'canary.steps: must be ascending, each step above the one before',
    ]);
    expect(issues({ ...body, canary: { ...body.canary, steps: [0, 101] } })).toEqual([
      'canary.steps.0: must be whole percents from 1 to 100',
      'canary.steps.1: must be whole percents from 1 to 100',
    ]);
    expect(issues({ ...body, canary: { steps: [10], interval: '1m' } })).toEqual(['canary: must declare maxErrorRate and/or maxP99']);
  });
});
