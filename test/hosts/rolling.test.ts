/**
 * The rolling strategy on three test hosts (network namespaces), each with its own host agent and slots, behind the
 * built-in router in the root namespace. Hosts leave the route one at a time (drained), are upgraded, warmed up and
 * put back, under steady reads and writes: no failed read, no refused or failed write, every accepted write kept.
 * The benchmark to beat: seed 002's 30-90 s of HTTP 500 while its servers upgrade.
 */
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { createHosts, testHostsUnavailable, type TestHost, type TestHosts } from '../support/netns.js';
import { forwardToLoopback, type Forward } from '../support/forward.js';
import { startTestStack, waitForPollers, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';
import { agentEnvironment } from '../../src/platform/agent/environment.js';
import { hostTaskQueue } from '../../src/platform/agent/contract.js';
import { createSlotSupervisor } from '../../src/platform/agent/slots.js';
import { slotsDirOf } from '../../src/platform/agent/activities.js';
import { packDirectory } from '../../src/packages/pack.js';

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

    /** v3's code as another version (no migration pending after v3): uploaded, its sha256:<id> returned. */
    async function uploadPatchRelease(version: string): Promise<string> {
      const dir = mkdtempSync(join(tmpdir(), 'cutover-rolling-'));
      try {
        const app = join(dir, 'app');
        cpSync(fileURLToPath(new URL('../../examples/demo-app/v3', import.meta.url)), app, { recursive: true });
        const manifest = JSON.parse(readFileSync(join(app, 'cutover-package.json'), 'utf8')) as Record<string, unknown>;
        writeFileSync(join(app, 'cutover-package.json'), JSON.stringify({ ...manifest, version }));
        await packDirectory(app, join(dir, 'app.tar.gz'));
        const auth: Record<string, string> = stack.adminToken ? { authorization: `Bearer ${stack.adminToken}` } : {};
        const r = await stack.app.request('/v1/packages', {
          method: 'POST',
          headers: { ...auth, 'content-type': 'application/gzip' },
          body: readFileSync(join(dir, 'app.tar.gz')),
        });
        const body = (await r.json()) as { id?: string };
        if (r.status !== 201 || !body.id) throw new Error(`upload answered ${r.status}: ${JSON.stringify(body)}`);
        return `sha256:${body.id}`;
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
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
      const traffic = startTraffic(stack.publicUrl(), { readers: 3, writeEveryMs: 50 });
      // v3's migrations are expand (before the roll) and contract (after Complete): v2 keeps working during the roll.
      const id = await stack.deploy('examples/demo-app/v3', 'expand-contract', { strategy: 'rolling', maxUnavailable: 1 });
      const awaiting = await stack.waitForPhase(id, ['awaiting-verification'], 180_000);
      expect(awaiting.rolling).toEqual({
        maxUnavailable: 1,
        hosts: testHosts.hosts.map((h) => ({ name: h.name, version: '3.0.0', state: 'rolled' })),
      });
      expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
      const done = await stack.waitForPhase(id, ['completed']);
      await recordHistory(id, 'rolling');
      await new Promise((r) => setTimeout(r, 300));
      const report = await traffic.stop();
      const failed = report.failedReads.length + report.failedWrites.length + report.refusedWrites.length;
      console.info(
        `rolling deployment across 3 hosts: ${failed} failed requests of ${report.reads + report.writes} ` +
          `(${report.failedReads.length} failed reads, ${report.refusedWrites.length} refused and ${report.failedWrites.length} failed writes)`,
      );

      expect(report.failedReads).toEqual([]);
      expect(report.failedWrites).toEqual([]);
      expect(report.refusedWrites).toEqual([]);
      // Both versions served during the roll.
      expect([...report.versions.keys()].sort()).toEqual(['2.0.0', '3.0.0']);
      const stored = new Set((await stack.sql<{ body: string }>("select body from notes where body like 'traffic-%'")).map((r) => r.body));
      expect(report.acceptedWrites.length).toBeGreaterThan(0);
      expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
      // No clone was made: the roll never needed one.
      expect(done.timings.map((t: { phase: string }) => t.phase)).not.toContain('clone');
      for (const host of testHosts.hosts) {
        expect((await runningOn(host.name)).map((s) => [s.packageVersion, s.databases])).toEqual([['3.0.0', 'original']]);
      }
      const route = stack.router.environments[stack.environment]!.switchboard.routes('web').live;
      expect(route).toMatchObject({ kind: 'slot', package: { version: '3.0.0' } });
      const replicas = (route as { replicas?: Array<{ host: string }> }).replicas ?? [];
      expect(replicas.map((r) => r.host).sort()).toEqual(testHosts.hosts.map((h) => h.address).sort());
      const applied = await stack.sql<{ name: string }>('select name from cutover_migrations order by name');
      expect(applied.map((r) => r.name)).toEqual(expect.arrayContaining(['0003_add_title.sql', '0004_author_required.sql']));
      const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
      for (const host of testHosts.hosts) expect(log).toContain(`Hosts ${host.name} serve 3.0.0`);
    }, 300_000);

    test('a host cut off mid-roll: a failure naming it, the others serve; once it is back, deploying again resumes and rolls it', async () => {
      const patch = await uploadPatchRelease('3.0.1');
      const [first, , last] = testHosts.hosts as [TestHost, TestHost, TestHost];
      const traffic = startTraffic(stack.publicUrl(), { readers: 2, writeEveryMs: 100 });
      const id = await stack.deploy(patch, 'expand-contract', { strategy: 'rolling' });
      // Once the first host rolled, the last one (not yet rolled) is cut off.
      for (;;) {
        const status = (await stack.api('GET', `/v1/deployments/${id}`)).body;
        if (status.rolling?.hosts[0]?.state === 'rolled') break;
        if (status.phase === 'failed') throw new Error(`failed before the cut: ${JSON.stringify(status.failure)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      await last.cut();
      try {
        const failed = await stack.waitForPhase(id, ['failed'], 180_000);
        expect(failed.failure.message).toContain(`host ${last.name} is lost`);
        expect(failed.failure.remediation).toContain(`Bring host ${last.name} back`);
        expect(
          failed.rolling.hosts.map((h: { name: string; version: string | null; state: string }) => [h.name, h.version, h.state]),
        ).toEqual([
          [first.name, '3.0.1', 'rolled'],
          [testHosts.hosts[1]!.name, '3.0.1', 'rolled'],
          [last.name, null, 'out'],
        ]);
        // The two other hosts keep serving, warmed up; the lost one is out of the route.
        const route = stack.router.environments[stack.environment]!.switchboard.routes('web').live as {
          replicas?: Array<{ host: string }>;
        };
        expect((route.replicas ?? []).map((r) => r.host)).toEqual([first.address, testHosts.hosts[1]!.address]);
        expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('3.0.1');
      } finally {
        await last.restore();
      }
      const again = await stack.deploy(patch, 'expand-contract', { strategy: 'rolling' });
      await stack.waitForPhase(again, ['awaiting-verification'], 180_000);
      // Only the host that was lost rolls: the two others already serve 3.0.1.
      expect((await stack.api('GET', `/v1/deployments/${again}/log`)).text).toContain(`Rolling ${last.name} to 3.0.1, 1 at a time`);
      expect((await stack.api('POST', `/v1/deployments/${again}/complete`, {})).status).toBe(200);
      await stack.waitForPhase(again, ['completed']);
      const report = await traffic.stop();
      console.info(
        `rolling deployment with a host cut off mid-roll: ${report.failedReads.length} failed reads, ` +
          `${report.failedWrites.length} failed and ${report.refusedWrites.length} refused writes of ${report.reads + report.writes}`,
      );
      const stored = new Set((await stack.sql<{ body: string }>("select body from notes where body like 'traffic-%'")).map((r) => r.body));
      expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
      for (const host of testHosts.hosts) expect((await runningOn(host.name)).map((s) => s.packageVersion)).toEqual(['3.0.1']);
    }, 400_000);
  });
}
