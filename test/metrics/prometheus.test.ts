import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { startApi } from '../../src/api/main.js';
import { parseConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';
import { sleep, slot, startUpstream, useTestRouter, type Upstream } from '../router/support.js';

/**
 * A real Prometheus (Debian's package) scrapes a real router, the API and a worker process, and loads the example
 * alert rules: what it stores is what was sent.
 */
const prometheusBin = '/usr/bin/prometheus';
const promtoolBin = '/usr/bin/promtool';
const repo = fileURLToPath(new URL('../..', import.meta.url));
const alertRules = join(repo, 'docs/prometheus/alerts.yml');
const run = promisify(execFile);

const acme = useTestRouter();
let v1: Upstream;
let v2: Upstream;
let api: Awaited<ReturnType<typeof startApi>>;
let worker: ChildProcess | undefined;
let workerOutput = '';
let prometheus: ChildProcess | undefined;
let prometheusOutput = '';
let promDir: string;
let promUrl: string;
const viewerToken = randomBytes(24).toString('base64url');
const taskQueue = `metrics-${randomBytes(4).toString('hex')}`;
const slots = { v1: 'acme.shop.000000000001.original', v2: 'acme.shop.000000000002.original' };

/** A slot stand-in that answers 500 on /fail, 200 otherwise. */
const app = (name: string) => (req: IncomingMessage, res: ServerResponse) => {
  req.resume();
  if (req.url === '/fail') return void res.writeHead(500).end(`${name} failed`);
  res.end(name);
};

beforeAll(async () => {
  const { env } = acme;
  [v1, v2] = await Promise.all([startUpstream(slots.v1, app('v1')), startUpstream(slots.v2, app('v2'))]);
  await acme.client().setLive('shop', slot(v1));
  await acme.client().setPreview('shop', slot(v2));

  // The API, with auth: Prometheus scrapes it with a viewer token.
  const [apiPort, workerMetricsPort, promPort] = [await freePort(), await freePort(), await freePort()];
  const sha = createHash('sha256').update(viewerToken).digest('hex');
  const configText = `${env.configText}
temporal: { address: ${inject('temporalAddress')}, taskQueue: ${taskQueue} }
worker: { metricsAddress: 127.0.0.1:${workerMetricsPort} }
api: { port: ${apiPort} }
auth:
  tokens:
    - { name: prometheus, sha256: ${sha}, roles: [viewer] }
`;
  const configFile = join(env.stateDir, 'cutover.yaml');
  await writeFile(configFile, configText);
  api = await startApi(parseConfig(configText, configFile));

  // The worker as a program: its Temporal SDK metrics on worker.metricsAddress.
  worker = spawn(process.execPath, ['--import', 'tsx', 'src/worker/main.ts', '--config', configFile], {
    cwd: repo,
    env: { ...process.env, ...env.processEnv, CUTOVER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));
  worker.stderr!.on('data', (chunk: Buffer) => (workerOutput += chunk.toString()));

  promDir = await mkdtemp(join(tmpdir(), 'cutover-prometheus-'));
  const promConfig = join(promDir, 'prometheus.yml');
  await writeFile(
    promConfig,
    `global: { scrape_interval: 1s, evaluation_interval: 1s }
rule_files: [${JSON.stringify(alertRules)}]
scrape_configs:
  - job_name: cutover-router
    static_configs: [{ targets: ["127.0.0.1:${env.ports.admin}"] }]
  - job_name: cutover-api
    authorization: { credentials: ${JSON.stringify(viewerToken)} }
    static_configs: [{ targets: ["127.0.0.1:${apiPort}"] }]
  - job_name: cutover-worker
    static_configs: [{ targets: ["127.0.0.1:${workerMetricsPort}"] }]
`,
  );
  await run(promtoolBin, ['check', 'config', promConfig]);
  promUrl = `http://127.0.0.1:${promPort}`;
  prometheus = spawn(
    prometheusBin,
    [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${join(promDir, 'data')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
      '--log.level=warn',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  prometheus.stdout!.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
  prometheus.stderr!.on('data', (chunk: Buffer) => (prometheusOutput += chunk.toString()));
  await until(
    'Prometheus is ready',
    async () => (await fetch(`${promUrl}/-/ready`)).ok,
    () => prometheusOutput,
  );
});

afterAll(async () => {
  await Promise.all([stop(prometheus), stop(worker)]);
  if (promDir) await rm(promDir, { recursive: true, force: true });
  await api?.close();
  await Promise.all([v1?.close(), v2?.close()]);
});

/** SIGTERM, then SIGKILL if it has not exited within 10 s. */
async function stop(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Polls until `check` holds (scrapes come every second); the error says what was waited for. */
async function until(what: string, check: () => Promise<boolean>, detail: () => string = () => '', timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s (${String(last ?? 'no error')})\n${detail()}`);
}

interface Sample {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(promql: string): Promise<Sample[]> {
  const response = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(promql)}`);
  const body = (await response.json()) as { status: string; error?: string; data: { resultType: string; result: Sample[] } };
  if (body.status !== 'success') throw new Error(`${promql}: ${body.error}`);
  return body.data.result;
}

/** The value of a query that has one sample, once Prometheus has it (undefined while it has none). */
async function scalar(promql: string): Promise<number | undefined> {
  const result = await query(promql);
  return result.length === 1 ? Number(result[0]!.value[1]) : undefined;
}

/** Waits until the query answers `expected`; then asserts it, so a wrong value fails with both. */
async function expectEventually(promql: string, expected: number) {
  let last: number | undefined;
  // A few scrapes and rule evaluations (1 s each) are plenty; a wrong value then fails below with what Prometheus has.
  const settled = async () => (last = await scalar(promql)) === expected;
  await until(`${promql} == ${expected}`, settled, () => `last value: ${last}`, 15_000).catch(() => undefined);
  expect(last, promql).toBe(expected);
}

async function send(url: string, times: number) {
  for (let i = 0; i < times; i += 1) await (await fetch(url)).text();
}

describe('Prometheus scrapes Cutover', () => {
  test('the example alert rules pass promtool', async () => {
    expect(existsSync(promtoolBin), 'promtool (Debian package prometheus; scripts/setup.sh installs it)').toBe(true);
    const { stdout } = await run(promtoolBin, ['check', 'rules', alertRules]);
    expect(stdout).toContain('SUCCESS');
  });

  test('every target is up: the router on loopback without a secret, the API with a viewer token, the worker', async () => {
    await until(
      'the worker serves its metrics',
      async () => (await query('up{job="cutover-worker"} == 1')).length === 1,
      () => workerOutput,
    );
    for (const job of ['cutover-router', 'cutover-api', 'cutover-worker']) await expectEventually(`up{job="${job}"}`, 1);
  });

  test("the router's counts per slot are what was sent: requests, 5xx, durations", async () => {
    const shop = acme.router.environments.acme!.sites.shop!;
    await send(`${shop.publicUrl}/`, 15);
    await send(`${shop.publicUrl}/fail`, 5);
    await send(`${shop.previewUrl}/`, 4);
    await send(`${shop.previewUrl}/fail`, 1);

    const live = `environment="acme",site="shop",channel="live",slot="${slots.v1}"`;
    await expectEventually(`sum(cutover_router_requests_total{${live},status_class="5xx"})`, 5);
    await expectEventually(`sum(cutover_router_requests_total{${live}})`, 20);
    await expectEventually(`sum(cutover_router_requests_total{${live},status_class="2xx"})`, 15);
    await expectEventually(`cutover_router_request_duration_seconds_count{${live}}`, 20);
    await expectEventually(`cutover_router_requests_in_flight{${live}}`, 0);
    const preview = `environment="acme",site="shop",channel="preview",slot="${slots.v2}"`;
    await expectEventually(`sum(cutover_router_requests_total{${preview},status_class="5xx"})`, 1);
    await expectEventually(`sum(cutover_router_requests_total{${preview}})`, 5);
    // A p99 Prometheus computes from the buckets: some duration within the buckets' range.
    const p99 = await scalar(`histogram_quantile(0.99, sum by (le) (cutover_router_request_duration_seconds_bucket{${live}}))`);
    expect(p99).toBeGreaterThan(0);
    expect(p99).toBeLessThanOrEqual(60);
  });

  test("the API's counts are by route pattern and status class", async () => {
    for (let i = 0; i < 3; i += 1) await (await fetch(`${api.url}/openapi.json`)).text();
    await (await fetch(`${api.url}/v1/environments`)).text(); // no token: 401
    await expectEventually('sum(cutover_api_requests_total{route="/openapi.json",method="GET",status_class="2xx"})', 3);
    await expectEventually('sum(cutover_api_requests_total{route="/v1/environments",status_class="4xx"})', 1);
    expect(await scalar('sum(cutover_api_requests_total{route="/metrics",status_class="2xx"}) > 0')).toBeGreaterThan(0);
  });

  test("the worker's Temporal SDK metrics name its task queue", async () => {
    await until(
      'the worker polls',
      async () => (await query(`temporal_num_pollers{task_queue="${taskQueue}"}`)).length > 0,
      () => workerOutput,
    );
    await expectEventually(`sum(temporal_worker_start_total{job="cutover-worker",task_queue="${taskQueue}"})`, 1);
    const slotsAvailable = await query(`temporal_worker_task_slots_available{task_queue="${taskQueue}"}`);
    // The label the example rule CutoverWorkerSlotsExhausted groups by.
    expect(slotsAvailable.map((s) => s.metric.worker_type).sort()).toEqual(expect.arrayContaining(['ActivityWorker', 'WorkflowWorker']));
  });

  test('the alert rules evaluate on the real series: a slot failing half its requests makes CutoverSlotErrorRate pending', async () => {
    const shop = acme.router.environments.acme!.sites.shop!;
    let sending = true;
    const traffic = (async () => {
      while (sending) {
        await send(`${shop.publicUrl}/`, 1);
        await send(`${shop.publicUrl}/fail`, 1);
        await sleep(20);
      }
    })();
    try {
      const alert = `ALERTS{alertname="CutoverSlotErrorRate",slot="${slots.v1}",channel="live"}`;
      await until(`${alert} is pending`, async () => (await query(alert)).length === 1);
      expect((await query(alert))[0]!.metric.alertstate).toMatch(/^(pending|firing)$/);
      // The preview, all 200 since, raises nothing.
      expect(await query(`ALERTS{alertname="CutoverSlotErrorRate",channel="preview"}`)).toEqual([]);
    } finally {
      sending = false;
      await traffic;
    }
    const rules = (await (await fetch(`${promUrl}/api/v1/rules`)).json()) as {
      data: { groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string }> }> };
    };
    const evaluated = rules.data.groups.flatMap((g) =>
      g.rules.map((r) => ({ rule: `${g.name}/${r.name}`, health: r.health, error: r.lastError })),
    );
    expect(evaluated).toHaveLength(9);
    expect(evaluated.filter((r) => r.health !== 'ok')).toEqual([]);
  });
});
