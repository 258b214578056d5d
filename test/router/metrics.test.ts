import { request as httpRequest } from 'node:http';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createAdminApp, type TrafficView } from '../../src/platform/router/admin.js';
import {
  latencyBuckets,
  latencyQuantile,
  RouterMetrics,
  slotTraffic,
  trafficBetween,
  type SlotTraffic,
} from '../../src/platform/router/metrics.js';
import type { Switchboard } from '../../src/platform/router/switchboard.js';
import { distinctFreePort, sleep, slot, startUpstream, useTestRouter, type Upstream } from './support.js';

const acme = useTestRouter();
const { client } = acme;
let a: Upstream;
let b: Upstream;
/** Requests to /hold wait here until the test lets them go. */
const held: Array<() => void> = [];
let shop: { publicUrl: string; previewUrl: string };

/** The slot stand-in's answers: by path. */
function answer(name: string) {
  return (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    req.resume();
    if (req.url === '/fail') return void res.writeHead(500).end('fail');
    if (req.url === '/missing') return void res.writeHead(404).end('missing');
    if (req.url === '/moved') return void res.writeHead(302, { location: '/' }).end();
    if (req.url === '/hold') return void held.push(() => res.end(`${name} held`));
    if (req.url === '/break') return void res.socket?.destroy();
    res.end(name);
  };
}

beforeAll(async () => {
  [a, b] = await Promise.all([startUpstream('slot-a', answer('slot-a')), startUpstream('slot-b', answer('slot-b'))]);
  shop = acme.router.environments.acme!.sites.shop!;
  await client().setLive('shop', slot(a));
  await client().setPreview('shop', slot(b));
});

afterAll(async () => {
  for (const release of held) release();
  await Promise.all([a?.close(), b?.close()]);
});

const traffic = (slotId: string, channel?: 'live' | 'preview') =>
  slotTraffic(acme.router.metrics, { environment: 'acme', site: 'shop', slot: slotId, channel });

async function send(base: string, path: string, times: number) {
  for (let i = 0; i < times; i += 1) await (await fetch(`${base}${path}`, { redirect: 'manual' })).text();
}

/** The sample of one series in the exposition, by its labels in prom-client's order. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function scrape(): Promise<string> {
  const response = await fetch(`${acme.router.adminUrl}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain; version=0.0.4');
  return response.text();
}

describe('the router counts what each slot served', () => {
  test('requests by status class, per listener and slot, in the exposition and in slotTraffic', async () => {
    const before = { a: traffic('slot-a'), b: traffic('slot-b') };
    await send(shop.publicUrl, '/', 6);
    await send(shop.publicUrl, '/fail', 3);
    await send(shop.publicUrl, '/missing', 2);
    await send(shop.publicUrl, '/moved', 1);
    await send(shop.previewUrl, '/', 4);
    await send(shop.previewUrl, '/fail', 1);

    const live = trafficBetween(before.a, traffic('slot-a'));
    expect(live.byClass).toEqual({ '2xx': 6, '3xx': 1, '4xx': 2, '5xx': 3, proxy_error: 0, client_closed: 0 });
    expect(live.requests).toBe(12);
    expect(live.serverErrors).toBe(3);
    expect(live.latency.counts.reduce((x, y) => x + y, 0)).toBe(12);
    expect(live.p99Seconds).not.toBeNull();
    const preview = trafficBetween(before.b, traffic('slot-b', 'preview'));
    expect(preview.byClass).toEqual({ '2xx': 4, '3xx': 0, '4xx': 0, '5xx': 1, proxy_error: 0, client_closed: 0 });
    // slot-b serves no live traffic: nothing counted there.
    expect(traffic('slot-b', 'live').requests).toBe(0);

    const text = await scrape();
    const labels = (channel: string, slotId: string) => `environment="acme",site="shop",channel="${channel}",slot="${slotId}"`;
    expect(sample(text, 'cutover_router_requests_total', `${labels('live', 'slot-a')},status_class="5xx"`)).toBe(
      traffic('slot-a').serverErrors,
    );
    expect(sample(text, 'cutover_router_requests_total', `${labels('preview', 'slot-b')},status_class="2xx"`)).toBe(
      traffic('slot-b').byClass['2xx'],
    );
    expect(sample(text, 'cutover_router_request_duration_seconds_count', labels('live', 'slot-a'))).toBe(traffic('slot-a').requests);
    expect(sample(text, 'cutover_router_request_duration_seconds_bucket', `${labels('live', 'slot-a')},le="+Inf"`)).toBe(
      traffic('slot-a').requests,
    );
    expect(sample(text, 'cutover_router_requests_in_flight', labels('live', 'slot-a'))).toBe(0);
    expect(text).toContain('# TYPE cutover_router_request_duration_seconds histogram');
  });

  test('requests in flight are counted until their response ends', async () => {
    const before = traffic('slot-a');
    const pending = fetch(`${shop.publicUrl}/hold`).then((r) => r.text());
    while (held.length === 0) await sleep(10);
    expect(traffic('slot-a').inFlight).toBe(1);
    expect(sample(await scrape(), 'cutover_router_requests_in_flight', 'environment="acme",site="shop",channel="live",slot="slot-a"')).toBe(
      1,
    );
    held.shift()!();
    expect(await pending).toBe('slot-a held');
    const after = trafficBetween(before, traffic('slot-a'));
    expect(after).toMatchObject({ requests: 1, inFlight: 0, byClass: { '2xx': 1 } });
  });

  test('a slot that gives no answer counts as proxy_error; a client that leaves first as client_closed', async () => {
    const before = traffic('slot-b', 'preview');
    expect((await fetch(`${shop.previewUrl}/break`)).status).toBe(502);

    const leaving = new AbortController();
    const abandoned = fetch(`${shop.previewUrl}/hold`, { signal: leaving.signal }).catch(() => 'left');
    while (held.length === 0) await sleep(10);
    leaving.abort();
    expect(await abandoned).toBe('left');
    while (traffic('slot-b', 'preview').inFlight > 0) await sleep(10);
    held.shift()!();

    const after = trafficBetween(before, traffic('slot-b', 'preview'));
    expect(after.byClass).toEqual({ '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, proxy_error: 1, client_closed: 1 });
    expect(after.proxyErrors).toBe(1);
  });

  test('a slot that is not running: proxy_error, under its slot id', async () => {
    const dead = { kind: 'slot' as const, slotId: 'slot-dead', port: await distinctFreePort() };
    await client().setPreview('shop', dead);
    expect((await fetch(shop.previewUrl)).status).toBe(502);
    expect(traffic('slot-dead', 'preview').byClass).toMatchObject({ proxy_error: 1, '5xx': 0 });
    await client().setPreview('shop', slot(b));
  });

  test("the router's own answers count under maintenance-page and no-route", async () => {
    await client().setLive('shop', { kind: 'maintenance' });
    await send(shop.publicUrl, '/', 2);
    expect(traffic('maintenance-page', 'live').byClass['5xx']).toBe(2);
    await client().setPreview('shop', null);
    await send(shop.previewUrl, '/', 1);
    expect(traffic('no-route', 'preview').byClass['5xx']).toBe(1);
    await client().setLive('shop', slot(a));
    await client().setPreview('shop', slot(b));
  });

  test('switching back to a slot continues its counts (counters never go down)', async () => {
    const before = traffic('slot-a', 'live');
    await client().setLive('shop', slot(b));
    await send(shop.publicUrl, '/', 2);
    await client().setLive('shop', slot(a));
    await send(shop.publicUrl, '/', 3);
    expect(trafficBetween(before, traffic('slot-a', 'live')).requests).toBe(3);
    expect(traffic('slot-a', 'live').requests).toBe(before.requests + 3);
  });

  test('/metrics/traffic answers the same counts as JSON, per site, listener and slot', async () => {
    const response = await fetch(`${acme.router.adminUrl}/metrics/traffic?environment=acme&site=shop`);
    expect(response.status).toBe(200);
    const view = (await response.json()) as TrafficView;
    const liveA = view.series.find((s) => s.channel === 'live' && s.slot === 'slot-a')!;
    expect(liveA).toMatchObject({ site: 'shop', requests: traffic('slot-a', 'live').requests });
    expect(liveA.byClass).toEqual(traffic('slot-a', 'live').byClass);
    const bad = await fetch(`${acme.router.adminUrl}/metrics/traffic?site=shop`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining('environment: ') });
    expect((await fetch(`${acme.router.adminUrl}/metrics/traffic?environment=nope`)).status).toBe(404);
    expect((await fetch(`${acme.router.adminUrl}/metrics/traffic?environment=acme&site=nope`)).status).toBe(404);
  });

  test('/metrics answers only requests addressed to the admin address (Host checked)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(`${acme.router.adminUrl}/metrics`, { headers: { host: 'rebound.example:80' } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(421);
  });
});

describe('who may read the metrics off loopback', () => {
  const adminToken = 'a'.repeat(40);
  const metricsToken = 'm'.repeat(40);
  const metrics = new RouterMetrics();
  const access = (metricsSecret?: string) => ({
    hosts: new Set(['10.1.2.3:7400']),
    environments: new Map([['acme', { token: adminToken, slotHosts: new Set(['127.0.0.1']) }]]),
    metrics: { loopback: false, token: metricsSecret },
  });
  const app = (metricsSecret?: string) =>
    createAdminApp('local', new Map<string, Switchboard>(), pino({ level: 'silent' }), access(metricsSecret), metrics);
  const get = (path: string, token?: string, metricsSecret = metricsToken) =>
    app(metricsSecret).request(path, { headers: { host: '10.1.2.3:7400', ...(token ? { authorization: `Bearer ${token}` } : {}) } });

  test('no secret: 401; the metrics secret or an admin secret: 200', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', 'x'.repeat(40))).status).toBe(401);
    expect((await get('/metrics', metricsToken)).status).toBe(200);
    expect((await get('/metrics', adminToken)).status).toBe(200);
    expect((await get('/metrics', metricsToken, '')).status).toBe(401);
  });

  test('the metrics secret reads, never switches', async () => {
    const response = await app(metricsToken).request('/v1/environments/acme/sites/shop/live', {
      method: 'PUT',
      headers: { host: '10.1.2.3:7400', authorization: `Bearer ${metricsToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'maintenance' }),
    });
    expect(response.status).toBe(401);
    expect((await get('/v1/environments/acme/routes', metricsToken)).status).toBe(401);
  });
});

describe('the numbers behind the metrics', () => {
  const latency = (counts: number[]) => ({
    bounds: latencyBuckets,
    counts: [...counts, ...Array(latencyBuckets.length + 1 - counts.length).fill(0)],
  });

  test('quantiles as histogram_quantile estimates them', () => {
    // 100 requests: 90 within 1 ms, 10 in (5 ms, 10 ms]: the 99th is the 9th of those 10, 90% into the bucket.
    expect(latencyQuantile(0.99, latency([90, 0, 0, 10]))).toBeCloseTo(0.005 + 0.005 * 0.9, 10);
    expect(latencyQuantile(0.5, latency([90, 0, 0, 10]))).toBeCloseTo(0.001 * (50 / 90), 10);
    expect(latencyQuantile(0.99, latency([]))).toBeNull();
    // Above every bound: the highest bound, as Prometheus answers.
    const above = latency([]);
    above.counts[latencyBuckets.length] = 5;
    expect(latencyQuantile(0.99, above)).toBe(60);
  });

  test('a series no route uses is dropped after the retention; a served one is kept', async () => {
    let now = 0;
    const metrics = new RouterMetrics({ retentionMs: 1000, now: () => now });
    const state = { target: null, inFlight: undefined as never };
    const listener = metrics.listener('acme', 'shop', 'live', state);
    const gone = metrics.series({ environment: 'acme', site: 'shop', channel: 'live', slot: 'old' });
    gone.count(0, 0.002);
    listener.of(null).count(3, 0.001);
    expect(await metrics.exposition()).toContain('slot="old"');
    now = 1500;
    const text = await metrics.exposition();
    expect(text).not.toContain('slot="old"');
    expect(text).toContain('slot="no-route",status_class="5xx"} 1');
    expect(gone.dropped).toBe(true);
  });

  test('trafficBetween of two readings across a dropped series takes the later one', () => {
    const reading = (ok: number): SlotTraffic => {
      const metrics = new RouterMetrics();
      const series = metrics.series({ environment: 'e', site: 's', channel: 'live', slot: 'x' });
      for (let i = 0; i < ok; i += 1) series.count(0, 0.003);
      return slotTraffic(metrics, { environment: 'e', site: 's', slot: 'x' });
    };
    expect(trafficBetween(reading(10), reading(14)).requests).toBe(4);
    expect(trafficBetween(reading(10), reading(3)).requests).toBe(3);
  });
});
