/**
 * The rolling strategy across three test hosts, as scenarios any data plane runs (test/hosts/rolling.test.ts on the
 * built-in router, test/hosts/three-hosts-proxies.test.ts on HAProxy and nginx): hosts upgraded one at a time under
 * steady load, and a host cut off mid-roll. Each expects v2 (examples/demo-app/v2) live on every host.
 */
import { expect } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestHost, TestHosts } from './netns.js';
import type { TestStack } from './stack.js';
import { startTraffic, type TrafficReport } from './traffic.js';
import { dataPlaneFor } from '../../src/platform/data-plane/for-environment.js';
import { packDirectory } from '../../src/packages/pack.js';

export interface RollingScenarioSetup {
  stack: TestStack;
  testHosts: TestHosts;
  runningOn(host: string): Promise<Array<{ packageVersion: string; databases: string }>>;
}

/** Requests that failed, by kind, and all requests sent. */
export function failures(report: TrafficReport) {
  const failed = report.failedReads.length + report.failedWrites.length + report.refusedWrites.length;
  return {
    failed,
    total: report.reads + report.writes,
    text:
      `${failed} failed requests of ${report.reads + report.writes} (${report.failedReads.length} failed reads, ` +
      `${report.refusedWrites.length} refused and ${report.failedWrites.length} failed writes)`,
  };
}

/** The live route of the stack's first site, read from its data plane (the built-in router: the one in this process). */
async function liveReplicas(stack: TestStack) {
  const env = stack.config.environments[stack.environment]!;
  const site = env.sites[0]!.name;
  const live =
    env.dataPlane.adapter === 'builtin'
      ? stack.router.environments[stack.environment]!.switchboard.routes(site).live
      : (await dataPlaneFor(stack.config, stack.environment, stack.env).routes())[site]!.live;
  const replicas = live?.kind === 'slot' ? ((live as { replicas?: Array<{ host: string }> }).replicas ?? []) : [];
  return { live, hosts: replicas.map((r) => r.host) };
}

/** v3's code as another version (no migration pending after v3): uploaded, its sha256:<id> returned. */
export async function uploadPatchRelease(stack: TestStack, version: string): Promise<string> {
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

/**
 * v2 → v3 (expand + contract migrations), one host at a time under steady reads and writes, then Complete. Every
 * accepted write is kept, each host ends on v3 alone, no clone is made, the migrations run once. Failed requests must
 * stay within `maxConnectionFailures` (0: none), and any allowed one is a connection closed, never an HTTP answer.
 */
export async function rollUnderLoad(setup: RollingScenarioSetup, label: string, maxConnectionFailures = 0) {
  const { stack, testHosts } = setup;
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
  await new Promise((r) => setTimeout(r, 300));
  const report = await traffic.stop();
  const summary = failures(report);
  console.info(`rolling deployment across 3 hosts (${label}): ${summary.text}`);

  expect(report.refusedWrites).toEqual([]);
  if (maxConnectionFailures === 0) {
    expect(report.failedReads).toEqual([]);
    expect(report.failedWrites).toEqual([]);
  } else {
    const all = [...report.failedReads, ...report.failedWrites];
    expect(all.filter((f) => typeof f.status === 'number')).toEqual([]);
    expect(all.length).toBeLessThanOrEqual(maxConnectionFailures);
  }
  // Both versions served during the roll.
  expect([...report.versions.keys()].sort()).toEqual(['2.0.0', '3.0.0']);
  const stored = new Set((await stack.sql<{ body: string }>("select body from notes where body like 'traffic-%'")).map((r) => r.body));
  expect(report.acceptedWrites.length).toBeGreaterThan(0);
  expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
  // No clone was made: the roll never needed one.
  expect(done.timings.map((t: { phase: string }) => t.phase)).not.toContain('clone');
  for (const host of testHosts.hosts) {
    expect((await setup.runningOn(host.name)).map((s) => [s.packageVersion, s.databases])).toEqual([['3.0.0', 'original']]);
  }
  const { live, hosts } = await liveReplicas(stack);
  expect(live).toMatchObject({ kind: 'slot', package: { version: '3.0.0' } });
  expect(hosts.sort()).toEqual(testHosts.hosts.map((h) => h.address).sort());
  const applied = await stack.sql<{ name: string }>('select name from cutover_migrations order by name');
  expect(applied.map((r) => r.name)).toEqual([...new Set(applied.map((r) => r.name))]);
  expect(applied.map((r) => r.name)).toEqual(expect.arrayContaining(['0003_add_title.sql', '0004_author_required.sql']));
  const log = (await stack.api('GET', `/v1/deployments/${id}/log`)).text;
  for (const host of testHosts.hosts) expect(log).toContain(`Hosts ${host.name} serve 3.0.0`);
  return { id, report };
}

/**
 * A patch release rolled; once the first host rolled, the last one (still in the route, on the old version) is cut
 * off: the deployment fails naming it, the two others serve the patch, the lost host is out of the route. Restored,
 * deploying again rolls only that host. Every accepted write is kept; failed requests are counted, not bounded (a
 * request sent to the lost host before it left the route may time out).
 */
export async function cutMidRoll(setup: RollingScenarioSetup, label: string, version: string) {
  const { stack, testHosts } = setup;
  const patch = await uploadPatchRelease(stack, version);
  const [first, second, last] = testHosts.hosts as [TestHost, TestHost, TestHost];
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
  let lostReport: { failed: number; total: number; text: string };
  try {
    const failed = await stack.waitForPhase(id, ['failed'], 180_000);
    expect(failed.failure.message).toContain(`host ${last.name} is lost`);
    expect(failed.failure.remediation).toContain(`Bring host ${last.name} back`);
    expect(failed.rolling.hosts.map((h: { name: string; version: string | null; state: string }) => [h.name, h.version, h.state])).toEqual([
      [first.name, version, 'rolled'],
      [second.name, version, 'rolled'],
      [last.name, null, 'out'],
    ]);
    // The two other hosts keep serving, warmed up; the lost one is out of the route.
    expect((await liveReplicas(stack)).hosts).toEqual([first.address, second.address]);
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe(version);
    lostReport = failures(traffic.report);
  } finally {
    await last.restore();
  }
  const again = await stack.deploy(patch, 'expand-contract', { strategy: 'rolling' });
  await stack.waitForPhase(again, ['awaiting-verification'], 180_000);
  // Only the host that was lost rolls: the two others already serve the patch.
  expect((await stack.api('GET', `/v1/deployments/${again}/log`)).text).toContain(`Rolling ${last.name} to ${version}, 1 at a time`);
  expect((await stack.api('POST', `/v1/deployments/${again}/complete`, {})).status).toBe(200);
  await stack.waitForPhase(again, ['completed']);
  const report = await traffic.stop();
  console.info(
    `rolling deployment with a host cut off mid-roll (${label}): until the failure ${lostReport.text}; ` +
      `in all, with the resumed roll, ${failures(report).text}`,
    [...report.failedReads, ...report.failedWrites].slice(0, 10),
  );
  expect(report.refusedWrites).toEqual([]);
  const stored = new Set((await stack.sql<{ body: string }>("select body from notes where body like 'traffic-%'")).map((r) => r.body));
  expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
  for (const host of testHosts.hosts) expect((await setup.runningOn(host.name)).map((s) => s.packageVersion)).toEqual([version]);
  expect((await liveReplicas(stack)).hosts.sort()).toEqual(testHosts.hosts.map((h) => h.address).sort());
  return { report, lostReport };
}
