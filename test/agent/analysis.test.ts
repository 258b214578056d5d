/**
 * The analysis activity against real answers: an HTTP application on the preview and public ports, and a real
 * Prometheus (Debian's `prometheus`) evaluating PromQL. Prometheus needs no scraped data for `vector(...)`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AnalysisSpec, CheckSpec, MetricSpec } from '../../src/workflows/analysis-definitions.js';
import { createAnalysisActivities } from '../../src/activities/analysis.js';
import { parseConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';

const PROMETHEUS = '/usr/bin/prometheus';
let previewPort: number;
let publicPort: number;
let prometheusUrl: string;
let prometheus: ChildProcess | null = null;
const servers: Server[] = [];
const dir = mkdtempSync(join(tmpdir(), 'cutover-analysis-'));

/** An application: /flaky answers 500 on every fourth request, /slow after a second, the rest 200. */
async function serve(port: number): Promise<void> {
  let flaky = 0;
  const server = createServer((req, res) => {
    if (req.url === '/flaky' && ++flaky % 4 === 0) return void res.writeHead(500).end('boom');
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 1_000);
    res.writeHead(200).end('ok');
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
}

beforeAll(async () => {
  [previewPort, publicPort] = await Promise.all([freePort(), freePort()]);
  await Promise.all([serve(previewPort), serve(publicPort)]);
  if (!existsSync(PROMETHEUS)) return;
  const port = await freePort();
  writeFileSync(join(dir, 'prometheus.yml'), 'global: { evaluation_interval: 1m }\nscrape_configs: []\n');
  prometheus = spawn(
    PROMETHEUS,
    [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  prometheusUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    const ready = await fetch(`${prometheusUrl}/-/ready`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready) break;
    if (Date.now() > deadline) throw new Error(`Prometheus did not get ready on ${prometheusUrl}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 60_000);

afterAll(async () => {
  if (prometheus && prometheus.exitCode === null) {
    const exited = new Promise((r) => prometheus!.once('exit', r));
    prometheus.kill('SIGTERM');
    await exited;
  }
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  rmSync(dir, { recursive: true, force: true });
});

function analyze(spec: Partial<AnalysisSpec>, options: { sites?: string[]; compareWithLive?: boolean; environment?: string } = {}) {
  const config = parseConfig(
    `
environments:
  shop:
    host: here
    router: { adminPort: 1 }
    sites:
      - { name: web, role: zdd, publicPort: ${publicPort}, previewPort: ${previewPort} }
`,
    join(dir, 'cutover.yaml'),
  );
  const { analyzePreview } = createAnalysisActivities({ config, host: 'here' });
  return analyzePreview({
    environment: options.environment ?? 'shop',
    sites: options.sites ?? ['web'],
    spec: { checks: [], metrics: [], rollbackDatabase: false, ...spec },
    compareWithLive: options.compareWithLive ?? false,
  });
}

const check = (fields: Partial<CheckSpec>): CheckSpec => ({
  path: '/',
  expectStatus: 200,
  maxLatencyMs: null,
  requests: 8,
  intervalMs: 10,
  failureLimit: 0,
  ...fields,
});

describe('synthetic checks on the preview', () => {
  test('a path that fails one request in four fails the check, with the live version next to it', async () => {
    const evidence = await analyze({ checks: [check({ path: '/flaky', failureLimit: 1 })] }, { compareWithLive: true });
    expect(evidence.verdict).toBe('fail');
    expect(evidence.checks).toEqual([
      expect.objectContaining({
        site: 'web',
        path: '/flaky',
        requests: 8,
        failures: 2,
        errorRate: 0.25,
        verdict: 'fail',
        reason: '2 of 8 failed (25%, limit 1): 2 × HTTP 500',
        live: expect.objectContaining({ requests: 8, failures: 2 }),
      }),
    ]);
    expect(evidence.checks[0]!.p99Ms).toBeGreaterThanOrEqual(0);
    expect(evidence.summary).toMatch(/^1 of 1 checks and metrics failed: web GET \/flaky: 2 of 8 failed/);
  });

  test('within its failure limit and status, a check passes; the live comparison is optional', async () => {
    const evidence = await analyze({ checks: [check({ path: '/flaky', failureLimit: 2 }), check({ path: '/' })] });
    expect(evidence.verdict).toBe('pass');
    expect(evidence.checks.map((c) => [c.path, c.verdict, c.failures, c.live])).toEqual([
      ['/flaky', 'pass', 2, null],
      ['/', 'pass', 0, null],
    ]);
  });

  test('an answer slower than the latency limit, or with another status than expected, is a failure', async () => {
    const slow = await analyze({ checks: [check({ path: '/slow', requests: 2, maxLatencyMs: 200 })] });
    expect(slow.checks[0]).toMatchObject({
      failures: 2,
      verdict: 'fail',
      reason: '2 of 2 failed (100%, limit 0): 2 × no answer within 200 ms',
    });
    const other = await analyze({ checks: [check({ expectStatus: 204, requests: 2 })] });
    expect(other.checks[0]).toMatchObject({ failures: 2, verdict: 'fail', reason: expect.stringContaining('2 × HTTP 200') });
  });

  test('the activity checks only sites and environments of its own host', async () => {
    await expect(analyze({ checks: [check({})] }, { sites: ['shop-admin'] })).rejects.toThrow(/has no site "shop-admin"/);
    await expect(analyze({ checks: [check({})] }, { environment: 'other' })).rejects.toThrow(/Unknown environment "other"/);
  });
});

const metric = (fields: Partial<MetricSpec>): MetricSpec => ({
  name: 'error-rate',
  prometheusUrl,
  query: 'vector(0)',
  max: 0.05,
  samples: 2,
  intervalMs: 50,
  failureLimit: 0,
  ...fields,
});

describe('Prometheus thresholds', () => {
  test('Prometheus unreachable: inconclusive, never a pass', async () => {
    const port = await freePort();
    const evidence = await analyze({ metrics: [metric({ prometheusUrl: `http://127.0.0.1:${port}` })] });
    expect(evidence.verdict).toBe('inconclusive');
    expect(evidence.metrics[0]).toMatchObject({ values: [null, null], verdict: 'inconclusive' });
    expect(evidence.metrics[0]!.reason).toContain(`2 × Prometheus at http://127.0.0.1:${port} unreachable (connection refused)`);
  });

  test.skipIf(!existsSync(PROMETHEUS))('a real Prometheus: above the threshold fails, below passes, no data is inconclusive', async () => {
    const evidence = await analyze({
      metrics: [
        metric({ name: 'high', query: 'vector(0.2)' }),
        metric({ name: 'low', query: 'scalar(vector(0.01))' }),
        metric({ name: 'none', query: 'cutover_no_such_series' }),
        metric({ name: 'bad', query: 'sum(' }),
      ],
    });
    expect(evidence.verdict).toBe('fail');
    expect(evidence.metrics.map((m) => [m.name, m.verdict, m.values])).toEqual([
      ['high', 'fail', [0.2, 0.2]],
      ['low', 'pass', [0.01, 0.01]],
      ['none', 'inconclusive', [null, null]],
      ['bad', 'inconclusive', [null, null]],
    ]);
    expect(evidence.metrics[0]!.reason).toBe('2 of 2 samples above 0.05 (limit 0): 0.2, 0.2');
    expect(evidence.metrics[2]!.reason).toContain('no data (the query returned no series)');
    expect(evidence.metrics[3]!.reason).toContain('refused the query');
  });
});
