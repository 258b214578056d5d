/**
 * The rolling strategy on three test hosts (network namespaces), each with its own host agent and slots, behind the
 * built-in router in the root namespace. Hosts leave the route one at a time (drained), are upgraded, warmed up and
 * put back, under steady reads and writes: no failed read, no refused or failed write, every accepted write kept.
 * The benchmark to beat: seed 002's 30-90 s of HTTP 500 while its servers upgrade. The same scenarios run behind
 * HAProxy and nginx in three-hosts-proxies.test.ts (test/support/rolling-scenarios.ts).
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { createHosts, testHostsUnavailable, type TestHost, type TestHosts } from '../support/netns.js';
import { forwardToLoopback, type Forward } from '../support/forward.js';
import { startTestStack, waitForPollers, type TestStack } from '../support/stack.js';
import { cutMidRoll, rollUnderLoad } from '../support/rolling-scenarios.js';
import { agentEnvironment } from '../../src/platform/agent/environment.js';
import { hostTaskQueue } from '../../src/platform/agent/contract.js';
import { createSlotSupervisor } from '../../src/platform/agent/slots.js';
import { slotsDirOf } from '../../src/platform/agent/activities.js';

const unavailable = await testHostsUnavailable();
const agentMain = fileURLToPath(new URL('../../src/platform/agent/main.ts', import.meta.url));

if (unavailable) {
  describe.skip(`SKIPPED: ${unavailable}`, () => test('rolling deployment across three hosts', () => undefined));
} else {
  describe('rolling deployment across three hosts', () => {
    let testHosts: TestHosts;
    const forwards: Forward[] = [];
    let stack: TestStack;
    const agents = new Map<string, ChildProcess>();

    async function startAgent(host: TestHost) {
      const child = host.exec(process.execPath, ['--import', 'tsx', agentMain, '--host', host.name, '--config', stack.configFile], {
        env: { ...agentEnvironment(stack.config, host.name, stack.env), CUTOVER_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'inherit', 'inherit'],
      });
      agents.set(host.name, child);
      await waitForPollers(stack.client, hostTaskQueue(host.name), 60_000, 2, child.pid);
    }

    /**
     * The history for test/replay (CUTOVER_RECORD_HISTORIES=1), through the test's own client: the temporal CLI cannot
     * reach the hosts' bridge address.
     */
    async function recordHistory(workflowId: string, name: string) {
      if (!process.env.CUTOVER_RECORD_HISTORIES) return;
      const history = await stack.client.workflow.getHandle(workflowId).fetchHistory();
      writeFileSync(fileURLToPath(new URL(`../replay/histories/${name}.json`, import.meta.url)), historyToJSON(history));
    }

    async function runningOn(host: string) {
      const slots = await createSlotSupervisor({ slotsDir: slotsDirOf(stack.config.stateDir, host) }).list();
      return slots.filter((s) => s.state === 'running');
    }

    beforeAll(async () => {
      const id = randomBytes(2).toString('hex');
      testHosts = await createHosts(3, { names: [1, 2, 3].map((i) => `roll${id}-${i}`) });
      const root = testHosts.rootAddress;
      const pgPort = inject('pgPort');
      const temporal = await forwardToLoopback(root, Number(inject('temporalAddress').split(':').pop()));
      const postgres = await forwardToLoopback(root, pgPort);
      forwards.push(temporal, postgres);
      stack = await startTestStack({
        temporalAddress: `${root}:${temporal.port}`,
        databaseUrl: (url) => url.replace(`@127.0.0.1:${pgPort}/`, `@${root}:${postgres.port}/`),
        slotHosts: testHosts.hosts.map((h) => ({ name: h.name, address: h.address })),
        timeouts: { step: '15s', heartbeat: '5s' },
      });
      await Promise.all(testHosts.hosts.map(startAgent));
      await stack.deployAndComplete('examples/demo-app/v1');
    }, 240_000);

    afterAll(async () => {
      await stack?.close();
      await testHosts?.close();
      await Promise.allSettled(forwards.map((f) => f.close()));
    });

    test('a migration the old version may not tolerate: the rolling deployment is refused in preflight, naming it', async () => {
      const id = await stack.deploy('examples/demo-app/v2', 'readonly', { strategy: 'rolling' });
      const failed = await stack.waitForPhase(id, ['failed']);
      expect(failed.failure.class).toBe('invalid-input');
      expect(failed.failure.message).toContain('database app cannot take a rolling deployment');
      expect(failed.failure.message).toContain('0002_add_author.sql');
      for (const host of testHosts.hosts) expect((await runningOn(host.name)).map((s) => s.packageVersion)).toEqual(['1.0.0']);
      // The smooth strategy takes it (a clone serves meanwhile).
      expect((await stack.deployAndComplete('examples/demo-app/v2')).phase).toBe('completed');
    }, 240_000);

    test('hosts upgraded one at a time under load: no failed read, no refused or failed write, each host ends on the new version', async () => {
      const { id } = await rollUnderLoad({ stack, testHosts, runningOn }, 'built-in router');
      await recordHistory(id, 'rolling');
    }, 300_000);

    test('a host cut off mid-roll: a failure naming it, the others serve; once it is back, deploying again resumes and rolls it', async () => {
      await cutMidRoll({ stack, testHosts, runningOn }, 'built-in router', '3.0.1');
    }, 400_000);
  });
}
