/**
 * Several hosts: three test hosts (network namespaces), each with its own host agent and slots, behind the
 * built-in router in the root namespace. A smooth deployment starts and warms every slot on every host, switches
 * traffic for all replicas at once and migrates once; a host lost mid-deployment is a classified failure that
 * leaves the environment safe, and deploying again once it is back resumes.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { testHostsUnavailable, type TestHosts } from '../support/netns.js';
import { startStackOnTestHosts, type StackOnTestHosts } from '../support/stack-on-test-hosts.js';
import type { TestStack } from '../support/stack.js';
import type { ReplicaStatus } from '../../src/workflows/definitions.js';
import { startTraffic } from '../support/traffic.js';

const unavailable = await testHostsUnavailable();

if (unavailable) {
  describe.skip(`SKIPPED: ${unavailable}`, () => test('three hosts behind one data plane', () => undefined));
} else {
  describe('three hosts behind one data plane', () => {
    let setup: StackOnTestHosts | undefined;
    let testHosts: TestHosts;
    let stack: TestStack;
    const runningOn = (host: string) => setup!.runningOn(host);
    type SiteReplicas = { name: string; serving: string | null; previewSlot: string | null; replicas: ReplicaStatus[] };
    /** The deployment's sites as GET /v1/deployments/{id} answers them, with each slot's copies per host. */
    const sitesOf = async (id: string) => {
      const r = await stack.api('GET', `/v1/deployments/${id}`);
      expect(r.status, r.text).toBe(200);
      return (r.body as { sites: SiteReplicas[] }).sites;
    };
    /** The copies of a slot: one per host, each at its host's address and its own port, all in the state given. */
    const expectCopies = (site: SiteReplicas, slotId: string | null, state: ReplicaStatus['state']) => {
      const copies = site.replicas.filter((r) => r.slotId === slotId);
      expect(copies.map((r) => [r.host, r.address]).sort()).toEqual(testHosts.hosts.map((h) => [h.name, h.address]).sort());
      expect(copies.map((r) => r.state)).toEqual(testHosts.hosts.map(() => state));
      for (const r of copies) expect(r.port).toEqual(expect.any(Number));
    };

    beforeAll(async () => {
      setup = await startStackOnTestHosts({ hosts: 3 });
      ({ stack, testHosts } = setup);
      await stack.deployAndComplete('examples/demo-app/v1');
    }, 240_000);

    afterAll(async () => {
      await setup?.close();
    });

    test('a smooth deployment under load: every host runs the new version, no read fails, migrations run once', async () => {
      const traffic = startTraffic(stack.publicUrl(), { readers: 3, writeEveryMs: 50 });
      const id = await stack.deploy('examples/demo-app/v2');
      await stack.waitForPhase(id, ['awaiting-verification']);
      // Each site's replicas, per host: the clone serves, the preview is warm, the old version stopped before migrating.
      const waiting = await sitesOf(id);
      for (const site of waiting) {
        expectCopies(site, site.serving, 'serving');
        expectCopies(site, site.previewSlot, 'warm');
        const others = site.replicas.filter((r) => r.slotId !== site.serving && r.slotId !== site.previewSlot);
        expect(others.map((r) => r.state)).toEqual(testHosts.hosts.map(() => 'stopped'));
      }
      expect((await stack.api('POST', `/v1/deployments/${id}/complete`, {})).status).toBe(200);
      await stack.waitForPhase(id, ['completed']);
      // The new version serves on every host; the clones stopped.
      for (const site of await sitesOf(id)) {
        expectCopies(site, site.serving, 'serving');
        expectCopies(site, waiting.find((w) => w.name === site.name)!.serving, 'stopped');
      }
      const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
      const started = testHosts.hosts.map((h) => `host ${h.name} (${h.address}:`);
      expect(log.split('\n').filter((l) => l.includes('Started ') && started.every((s) => l.includes(s)))).not.toEqual([]);
      await new Promise((r) => setTimeout(r, 300));
      const report = await traffic.stop();

      expect(report.failedReads).toEqual([]);
      expect(report.failedWrites).toEqual([]);
      expect([...report.versions.keys()].sort()).toEqual(['1.0.0', '2.0.0']);
      // Every accepted write is in the final database; in readonly mode the rest were refused, clearly, never lost.
      const stored = new Set((await stack.sql<{ body: string }>("select body from notes where body like 'traffic-%'")).map((r) => r.body));
      expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
      // Each host runs v2 on the original databases, and nothing else of this environment.
      for (const host of testHosts.hosts) {
        const running = await runningOn(host.name);
        expect(running.map((s) => [s.packageVersion, s.databases])).toEqual([['2.0.0', 'original']]);
      }
      // The router sends the site's traffic to the three copies, one per host address.
      const live = await fetch(`${stack.publicUrl()}/notes`);
      expect(live.headers.get('x-app-version')).toBe('2.0.0');
      const route = stack.router.environments[stack.environment]!.switchboard.routes('web').live;
      expect(route).toMatchObject({ kind: 'slot' });
      const replicas = (route as { replicas?: Array<{ host: string }> }).replicas ?? [];
      expect(replicas.map((r) => r.host).sort()).toEqual(testHosts.hosts.map((h) => h.address).sort());
      // The migration ran once, although three hosts started the new version.
      const applied = await stack.sql<{ name: string }>('select name from cutover_migrations order by name');
      expect(applied.map((r) => r.name)).toEqual([...new Set(applied.map((r) => r.name))]);
      expect(applied.map((r) => r.name)).toContain('0002_add_author.sql');
    }, 180_000);

    test('a host lost mid-deployment: a failure naming the host, traffic still served; once back, deploying again resumes', async () => {
      const lost = testHosts.hosts[1]!;
      await lost.cut();
      const id = await stack.deploy('examples/demo-app/v3');
      const failed = await stack.waitForPhase(id, ['failed'], 120_000);
      expect(failed.failure.message).toContain(`host ${lost.name} is lost`);
      expect(failed.failure.remediation).toContain(`Bring host ${lost.name} back`);
      // Every replica on the lost host is lost (the live one and the clone it did not start); the others are not.
      for (const site of await sitesOf(id)) {
        const onLost = site.replicas.filter((r) => r.host === lost.name);
        expect(onLost.length).toBeGreaterThanOrEqual(2);
        expect(onLost.map((r) => r.state)).toEqual(onLost.map(() => 'lost'));
        const live = site.replicas.filter((r) => r.slotId === site.serving && r.host !== lost.name);
        expect(live.map((r) => r.state)).toEqual(['serving', 'serving']);
        expect(site.replicas.filter((r) => r.host !== lost.name && r.state === 'lost')).toEqual([]);
      }
      expect((await stack.api('GET', `/v1/deployments/${id}/log`)).text).toContain(`Host ${lost.name} is lost: its replicas `);
      // Nothing moved before the clones were warm on every host: the public still gets v2.
      const during = await fetch(`${stack.publicUrl()}/notes`);
      expect(during.status).toBe(200);

      await lost.restore();
      const resumed = await stack.deployAndComplete('examples/demo-app/v3');
      expect(resumed.phase).toBe('completed');
      for (const host of testHosts.hosts) {
        expect((await runningOn(host.name)).map((s) => s.packageVersion)).toEqual(['3.0.0']);
      }
    }, 300_000);
  });
}
