import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RunningRouter } from '../../src/platform/router/main.js';
import type { CanaryInput } from '../../src/platform/router/routes.js';
import { createBuiltinDataPlane } from '../../src/platform/data-plane/builtin.js';
import { InvalidRequestError } from '../../src/platform/data-plane/errors.js';
import { CanaryTarget } from '../../src/platform/router/canary.js';
import { RouterMetrics } from '../../src/platform/router/metrics.js';
import type { ListenerState } from '../../src/platform/router/switchboard.js';
import { SlotTarget } from '../../src/platform/router/targets.js';
import { adminFetch, routerClient, slot, startTestRouter, startUpstream, testEnvironment } from './support.js';
import type { TestEnvironment, Upstream } from './support.js';

let env: TestEnvironment;
let router: RunningRouter;
let stable: Upstream;
let canary: Upstream;
let other: Upstream;
const client = () => routerClient(router.adminUrl, env);
const allowHeader = { header: 'X-Cutover-Canary', value: '1' };
const allowCookie = { cookie: 'cutover_tester', value: 'yes' };
const canaryAt = (percent: number): CanaryInput => ({ target: slot(canary), percent, allow: [allowHeader, allowCookie] });

/** One request to the public listener of shop: who answered, and the canary cookie it was given (if any). */
async function visit(headers: Record<string, string> = {}): Promise<{ by: string; cookie: string | null }> {
  const response = await fetch(`${router.environments.acme!.sites.shop!.publicUrl}/`, { headers });
  return { by: await response.text(), cookie: response.headers.get('set-cookie') };
}

/** `count` clients never seen before, 25 at a time: how many reached the canary. */
async function freshClients(count: number): Promise<{ onCanary: number; cookies: Set<string | null> }> {
  let onCanary = 0;
  const cookies = new Set<string | null>();
  for (let done = 0; done < count; done += 25) {
    const batch = await Promise.all(Array.from({ length: Math.min(25, count - done) }, () => visit()));
    for (const { by, cookie } of batch) {
      if (by === canary.name) onCanary += 1;
      cookies.add(cookie?.replace(/=\d+;/, '=N;') ?? null);
    }
  }
  return { onCanary, cookies };
}

/** The Cookie header a browser sends back: the name=value part of Set-Cookie. */
const cookieOf = (setCookie: string | null) => setCookie!.split(';')[0]!;

beforeAll(async () => {
  env = await testEnvironment();
  router = await startTestRouter(env);
  [stable, canary, other] = await Promise.all([startUpstream('stable'), startUpstream('canary'), startUpstream('other')]);
  await client().setLive('shop', slot(stable));
});

afterAll(async () => {
  await router?.close();
  await Promise.all([stable?.close(), canary?.close(), other?.close()]);
  await env?.cleanup();
});

describe('a canary on the live target', () => {
  test('takes its percentage of new clients, each given a sticky cookie', async () => {
    await client().setCanary('shop', canaryAt(10));
    const at10 = await freshClients(2000);
    expect(at10.onCanary / 2000).toBeGreaterThan(0.07);
    expect(at10.onCanary / 2000).toBeLessThan(0.13);
    expect(at10.cookies).toEqual(new Set(['cutover_canary=N; Path=/; HttpOnly; SameSite=Lax']));

    await client().setCanary('shop', canaryAt(50));
    const at50 = await freshClients(2000);
    expect(at50.onCanary / 2000).toBeGreaterThan(0.46);
    expect(at50.onCanary / 2000).toBeLessThan(0.54);
  });

  test('a client keeps its side while the percentage stays; raised, only stable clients move, none moves back', async () => {
    await client().setCanary('shop', canaryAt(10));
    const clients = await Promise.all(Array.from({ length: 200 }, () => visit()));
    const cookies = clients.map(({ cookie }) => cookieOf(cookie));
    const sides = async () => {
      const seen = await Promise.all(cookies.map((cookie) => visit({ cookie: `theme=dark; ${cookie}` })));
      // A client that sent its cookie back is not given another.
      expect(seen.filter(({ cookie }) => cookie !== null)).toEqual([]);
      return seen.map(({ by }) => by);
    };
    const first = clients.map(({ by }) => by);
    for (let round = 0; round < 3; round += 1) expect(await sides()).toEqual(first);

    await client().setCanary('shop', canaryAt(50));
    const raised = await sides();
    const moved = raised.filter((by, i) => by !== first[i]);
    expect(moved.length).toBeGreaterThan(0);
    expect(new Set(moved)).toEqual(new Set([canary.name]));
    for (let round = 0; round < 3; round += 1) expect(await sides()).toEqual(raised);
  });

  test('the allow-list (a header or a cookie) always reaches the canary, and the router counts it under the canary slot', async () => {
    await client().setCanary('shop', canaryAt(10));
    const stableCookie = await (async () => {
      for (;;) {
        const seen = await visit();
        if (seen.by === stable.name) return cookieOf(seen.cookie);
      }
    })();
    const byHeader = await Promise.all(Array.from({ length: 50 }, () => visit({ 'x-cutover-canary': '1', cookie: stableCookie })));
    expect(new Set(byHeader.map(({ by }) => by))).toEqual(new Set([canary.name]));
    const byCookie = await Promise.all(Array.from({ length: 50 }, () => visit({ cookie: `${stableCookie}; cutover_tester=yes` })));
    expect(new Set(byCookie.map(({ by }) => by))).toEqual(new Set([canary.name]));
    const wrongValue = await Promise.all(Array.from({ length: 20 }, () => visit({ 'x-cutover-canary': '0', cookie: stableCookie })));
    expect(new Set(wrongValue.map(({ by }) => by))).toEqual(new Set([stable.name]));

    const response = await adminFetch(env, `${router.adminUrl}/metrics/traffic?environment=acme&site=shop`);
    const { series } = (await response.json()) as { series: Array<{ channel: string; slot: string; requests: number }> };
    const canaryServed = series.find((s) => s.channel === 'live' && s.slot === canary.name);
    expect(canaryServed?.requests).toBeGreaterThanOrEqual(100);
  });

  test('percent 0, or no canary, sends everyone to the live target at once', async () => {
    await client().setCanary('shop', canaryAt(100));
    const onCanary = await visit();
    expect(onCanary.by).toBe(canary.name);

    const back = await client().setCanary('shop', canaryAt(0));
    expect(back.previous?.percent).toBe(100);
    const everyone = await Promise.all([
      visit({ cookie: cookieOf(onCanary.cookie) }),
      visit({ 'x-cutover-canary': '1' }),
      visit({ cookie: 'cutover_tester=yes' }),
      visit(),
    ]);
    expect(everyone.map(({ by }) => by)).toEqual(Array(4).fill(stable.name));

    await client().setCanary('shop', canaryAt(100));
    expect((await visit({ cookie: cookieOf(onCanary.cookie) })).by).toBe(canary.name);
    const removed = await client().setCanary('shop', null);
    expect(removed).toMatchObject({ previous: canaryAt(100), drained: true });
    expect((await visit({ 'x-cutover-canary': '1', cookie: cookieOf(onCanary.cookie) })).by).toBe(stable.name);
    expect((await client().getRoutes()).sites.shop!.canary).toBeUndefined();
  });

  test('survives a restart of the router; a switch of the live target ends it', async () => {
    await client().setCanary('shop', canaryAt(100));
    await router.close();
    router = await startTestRouter(env);
    expect((await client().getRoutes()).sites.shop!.canary).toEqual({ ...canaryAt(100), target: { ...slot(canary), host: '127.0.0.1' } });
    expect((await visit()).by).toBe(canary.name);

    await client().setLive('shop', slot(other));
    expect((await client().getRoutes()).sites.shop!.canary).toBeUndefined();
    expect((await visit({ 'x-cutover-canary': '1' })).by).toBe(other.name);
    await client().setLive('shop', slot(stable));
  });

  test('bad input is refused with 400 naming the field, and changes nothing', async () => {
    await client().setCanary('shop', canaryAt(10));
    const before = await client().getRoutes();
    const put = (body: unknown, site = 'shop') =>
      adminFetch(env, `${router.adminUrl}/v1/environments/acme/sites/${site}/canary`, { method: 'PUT', body: JSON.stringify(body) }).then(
        async (response) => [response.status, ((await response.json()) as { error: string }).error],
      );
    expect(await put({ ...canaryAt(10), percent: 150 })).toEqual([400, 'percent: must be between 0 and 100']);
    expect(await put({ ...canaryAt(10), percent: 2.5 })).toEqual([400, 'percent: must be a whole number']);
    expect(await put({ percent: 10 })).toEqual([400, 'target: is required']);
    expect(await put({ ...canaryAt(10), allow: [{ header: 'x-a', cookie: 'b', value: '1' }] })).toEqual([
      400,
      'allow[0].header: name either a header or a cookie',
    ]);
    expect(await put({ ...canaryAt(10), allow: [{ header: 'x a', value: '1' }] })).toEqual([
      400,
      'allow[0].header: must be a header or cookie name (letters, digits, - and _; at most 64)',
    ]);
    expect(await put({ ...canaryAt(10), target: { kind: 'slot', slotId: 'x', host: '10.0.0.9', port: 80 } })).toEqual([
      400,
      'target.host: must be one of this environment\'s slot hosts (127.0.0.1, ::1, localhost), got "10.0.0.9"',
    ]);
    expect(await put({ ...canaryAt(10), target: slot(stable) })).toEqual([400, 'target: must be another slot than the live target']);
    expect(await put(canaryAt(10), 'backoffice')).toEqual([400, 'canary: the live target of backoffice is not a slot']);
    expect(await put({ ...canaryAt(10), steps: [10] })).toEqual([400, 'body: unknown field(s) steps']);
    expect(await client().getRoutes()).toEqual(before);
  });

  test('through the data-plane port: set, read back as the port says targets, refused naming the field', async () => {
    const dataPlane = createBuiltinDataPlane({
      url: router.adminUrl,
      environment: 'acme',
      token: env.token,
      tokenEnv: 'CUTOVER_ROUTER_TOKEN',
    });
    const target = { kind: 'slot' as const, slotId: canary.name, replicas: [{ host: '127.0.0.1', port: canary.port }] };
    await dataPlane.setCanary!('shop', null);
    expect(await dataPlane.setCanary!('shop', { target, percent: 100 })).toEqual({
      previous: null,
      drained: true,
      drainMs: 0,
      inFlightAtSwitch: 0,
    });
    expect((await visit()).by).toBe(canary.name);
    const removed = await dataPlane.setCanary!('shop', null);
    expect(removed.previous).toEqual({ target, percent: 100 });
    expect((await visit()).by).toBe(stable.name);
    const bad = dataPlane.setCanary!('shop', { target: { ...target, replicas: [{ host: 'localhost', port: 80 }] }, percent: 10 });
    await expect(bad).rejects.toThrow(InvalidRequestError);
    await expect(bad).rejects.toThrow(/^canary\.target\.replicas\[0\]\.host: must be an IP address/);
    await expect(dataPlane.setCanary!('shop', { target, percent: -1 })).rejects.toThrow('canary.percent: must be between 0 and 100');
  });

  test('the series of the canary slot is kept while the canary is in force, as the live one is', async () => {
    let now = 0;
    const metrics = new RouterMetrics({ retentionMs: 1000, now: () => now });
    const upstream = { connections: undefined as never, label: 'slot c', slotId: 'c', key: 'c@x', unreachableUntil: 0 };
    const route = { target: { kind: 'slot' as const, slotId: 'c', port: 1 }, percent: 10 };
    const canaryTarget = new SlotTarget([upstream], [1]);
    const state: ListenerState = { target: null, inFlight: undefined as never, canary: new CanaryTarget(route, canaryTarget) };
    const listener = metrics.listener('acme', 'shop', 'live', state);
    listener.of(canaryTarget).count(0, 0.001);
    now = 1500;
    expect(await metrics.exposition()).toContain('slot="c",status_class="2xx"} 1');
    state.canary = null;
    await metrics.exposition();
    now = 3000;
    expect(await metrics.exposition()).not.toContain('slot="c"');
  });
});
