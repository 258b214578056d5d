/**
 * A worker or host agent killed mid-step is noticed by the activity's heartbeat timeout, not by its (much longer)
 * start-to-close timeout, so the deployment moves on seconds after the process is back. Figures: npm run bench.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';
import { crashAndRecover, type CrashScenario } from '../support/recovery.js';

let stack: TestStack;

beforeAll(async () => {
  // A long step timeout: only a heartbeat can notice the dead process in time.
  stack = await startTestStack({ workerProcess: true, agentProcess: true, timeouts: { step: '120s', heartbeat: '5s' } });
  await stack.deployAndComplete('examples/demo-app/v1');
});
afterAll(async () => {
  await stack?.close();
});

describe('recovery after a crash', () => {
  const scenarios: Array<[string, CrashScenario, string]> = [
    ['the worker, in the clone phase', { process: 'worker', crashAt: 'cloneDatabase' }, 'clone'],
    ['the worker, in the upgrade phase', { process: 'worker', crashAt: 'applyMigrations' }, 'upgrade'],
    ['the host agent, in the upgrade phase', { process: 'agent', crashAt: 'startSlot#2' }, 'upgrade'],
  ];
  test.each(scenarios)(
    '%s: the heartbeat notices, the step is retried and the deployment goes on',
    async (_name, scenario, phase) => {
      const recovery = await crashAndRecover(stack, scenario, 'examples/demo-app/v2');
      expect(recovery.phase).toBe(phase);
      expect(recovery.timeoutType).toBe('TIMEOUT_TYPE_HEARTBEAT');
      // Put the environment back for the next scenario.
      expect((await stack.api('POST', `/v1/deployments/${recovery.deploymentId}/reset`, { rollbackDatabase: true })).status).toBe(200);
      await stack.waitForPhase(recovery.deploymentId, ['reset'], 120_000);
    },
    240_000,
  );
});
