import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InvalidRequestError, UnknownSiteError, UnsupportedError } from '../../src/platform/data-plane/errors.js';
import type { DataPlane, DataPlaneSite, LiveTarget, SiteTargets, SlotTarget } from '../../src/platform/data-plane/port.js';
import { startTraffic } from '../support/traffic.js';
import {
  distinctFreePort,
  killStartedGroups,
  replicaOf,
  sleep,
  startBackend,
  waitUntil,
  type Backend,
  type DataPlaneUnderTest,
  type StartDataPlane,
} from './support.js';

export interface ContractExpectations {
  /**
   * Failed requests allowed while 10 switches happen under load. 0 for a data plane that switches in place; a
   * reload closes idle kept-alive client connections, and a request sent on one at that moment fails.
   */
  maxFailedRequestsDuringSwitches: number;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A request on its own connection, so nothing pooled outlives a restart of the data plane. */
export function get(url: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 15_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 15 s`)));
    req.on('error', reject);
    req.end();
  });
}

/** Which backends answered `count` requests. */
async function answeredBy(url: string, count: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < count; i += 1) {
    const answer = await get(url);
    const who = answer.status === 200 ? answer.body : `HTTP ${answer.status}`;
    seen.set(who, (seen.get(who) ?? 0) + 1);
  }
  return seen;
}

const slot = (slotId: string, ...backends: Backend[]): SlotTarget => ({ kind: 'slot', slotId, replicas: backends.map(replicaOf) });

/** The target with its replicas in a fixed order, for comparisons. */
function sorted<T extends LiveTarget | null>(target: T): T {
  return target?.kind === 'slot' ? ({ ...target, replicas: [...target.replicas].sort((a, b) => a.port - b.port) } as T) : target;
}

function normalized(routes: Record<string, SiteTargets>) {
  return Object.fromEntries(Object.entries(routes).map(([site, t]) => [site, { live: sorted(t.live), preview: sorted(t.preview) }]));
}

function expectMaintenancePage(answer: Answer, text: string) {
  expect(answer.status).toBe(503);
  expect(answer.headers['retry-after']).toMatch(/^\d+$/);
  expect(answer.headers['content-type']).toMatch(/^text\/html/);
  expect(answer.body).toContain(text);
}

/** The promises every data plane adapter keeps, checked against the real proxy, in its own process(es). */
export function dataPlaneContract(name: string, start: StartDataPlane, expectations: ContractExpectations) {
  describe(`the ${name} data plane`, () => {
    let dir: string;
    let sites: DataPlaneSite[];
    let under: DataPlaneUnderTest;
    let dp: DataPlane;
    let a: Backend;
    let b: Backend;
    let c: Backend;
    /** Two replicas where the data plane takes several, else one. */
    let many: (...backends: Backend[]) => Backend[];

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'cutover-data-plane-'));
      sites = [];
      for (const site of ['shop', 'backoffice']) {
        sites.push({ name: site, publicPort: await distinctFreePort(), previewPort: await distinctFreePort() });
      }
      [a, b, c] = await Promise.all([startBackend('a'), startBackend('b'), startBackend('c')]);
      under = await start({ dir, sites });
      dp = under.dataPlane;
      many = (...backends) => backends.slice(0, dp.capabilities.maxReplicas);
    });

    afterAll(async () => {
      await under?.stop();
      await killStartedGroups();
      await Promise.all([a, b, c].map((backend) => backend?.close()));
      if (dir) await rm(dir, { recursive: true, force: true });
    });

    test('before any target is set, both listeners answer 503 with Retry-After', async () => {
      expect(await dp.routes()).toEqual({ shop: { live: null, preview: null }, backoffice: { live: null, preview: null } });
      for (const url of [under.publicUrl('shop'), under.previewUrl('shop')]) {
        const answer = await get(url);
        expect(answer.status).toBe(503);
        expect(answer.headers['retry-after']).toMatch(/^\d+$/);
      }
      expect((await get(under.publicUrl('shop'))).body).toContain('no live version of shop yet');
      expect((await get(under.previewUrl('shop'))).body).toContain('no preview of shop right now');
    });

    test('traffic reaches only the live target, and a switch moves all its replicas at once', async () => {
      await dp.setLive('shop', slot('v1', a));
      expect(await answeredBy(under.publicUrl('shop'), 10)).toEqual(new Map([['a', 10]]));
      expect((await dp.routes()).shop!.live).toEqual(slot('v1', a));

      if (dp.capabilities.maxReplicas < 2) {
        await expect(dp.setLive('shop', slot('v2', b, c))).rejects.toThrow(UnsupportedError);
        await expect(dp.setLive('shop', slot('v2', b, c))).rejects.toThrow(
          'target.replicas: this data plane serves at most 1 replica(s) per target, got 2',
        );
        expect((await dp.routes()).shop!.live).toEqual(slot('v1', a));
      }
      const switched = await dp.setLive('shop', slot('v2', ...many(b, c)));
      const returnedAt = performance.now();
      expect(switched).toMatchObject({ previous: slot('v1', a), drained: true });
      const seen = await answeredBy(under.publicUrl('shop'), 20);
      expect([...seen.keys()].sort()).toEqual(many(b, c).map((x) => x.name));
      expect(a.arrivals.filter((at) => at > returnedAt)).toEqual([]);
      expect(sorted((await dp.routes()).shop!.live)).toEqual(sorted(slot('v2', ...many(b, c))));
      // The same target again changes nothing and answers at once.
      expect(await dp.setLive('shop', slot('v2', ...many(b, c).reverse()))).toMatchObject({ drained: true, drainMs: 0 });
    });

    test('switches under load lose no request, and the previous target gets nothing once a switch returned', async () => {
      await dp.setLive('shop', slot('a', a));
      const traffic = startTraffic(under.publicUrl('shop'), { readers: 8, write: false, readPath: '/' });
      await sleep(300);
      const switches: Array<{ from: Backend; startedAt: number; returnedAt: number }> = [];
      let from = a;
      for (let i = 0; i < 10; i += 1) {
        const to = from === a ? b : a;
        const startedAt = performance.now();
        await dp.setLive('shop', slot(to.name, to));
        switches.push({ from, startedAt, returnedAt: performance.now() });
        from = to;
        await sleep(150);
      }
      await sleep(300);
      const report = await traffic.stop();
      // Between a switch away from X returning and the next switch back to X starting, X must see nothing.
      const strays = switches.map((s, i) => {
        const until = switches[i + 1]?.startedAt ?? Infinity;
        return s.from.arrivals.filter((at) => at > s.returnedAt && at < until).length;
      });
      const failed = report.failedReads;
      console.info(`${name}: ${report.reads} requests during 10 switches, ${failed.length} failed`, failed.slice(0, 5));
      expect(report.reads).toBeGreaterThan(100);
      expect(strays).toEqual(switches.map(() => 0));
      expect(report.failedReads.filter((f) => typeof f.status === 'number')).toEqual([]);
      expect(report.failedReads.length).toBeLessThanOrEqual(expectations.maxFailedRequestsDuringSwitches);
      expect([...report.versions.keys()].sort()).toEqual(['a', 'b']);
    });

    test('a switch waits for the requests in flight to the previous target, up to the drain timeout', async () => {
      await dp.setLive('shop', slot('a', a));
      const slow = get(`${under.publicUrl('shop')}/slow?ms=2500`);
      while (a.inFlight === 0) await sleep(5);
      const switched = await dp.setLive('shop', slot('b', b));
      // The previous target had finished its answer when the switch returned (the client may read it a moment later).
      expect(a.inFlight).toBe(0);
      expect(await slow).toMatchObject({ status: 200, body: 'slow a' });
      expect(switched).toMatchObject({ previous: slot('a', a), drained: true });
      expect(switched.drainMs).toBeGreaterThan(0);
      if (switched.inFlightAtSwitch !== undefined) expect(switched.inFlightAtSwitch).toBeGreaterThanOrEqual(1);

      // Past the drain timeout the switch answers `drained: false`, and the slow request is still not cut.
      const slower = get(`${under.publicUrl('shop')}/slow?ms=6000`);
      while (b.inFlight === 0) await sleep(5);
      const startedAt = performance.now();
      const timedOut = await dp.setLive('shop', slot('a', a), { drainTimeoutMs: 300 });
      expect(timedOut).toMatchObject({ drained: false });
      expect(performance.now() - startedAt).toBeLessThan(4_000);
      expect(await answeredBy(under.publicUrl('shop'), 5)).toEqual(new Map([['a', 5]]));
      expect(await slower).toMatchObject({ status: 200, body: 'slow b' });
    });

    test('a switch away from several replicas waits for the requests in flight on every one of them', async () => {
      if (dp.capabilities.maxReplicas < 2) return;
      await dp.setLive('shop', slot('ab', a, b));
      const doneAt: number[] = [];
      const slowGet = () => get(`${under.publicUrl('shop')}/slow?ms=1500`).then((answer) => (doneAt.push(performance.now()), answer));
      const slow = [1, 2, 3, 4].map(slowGet);
      const deadline = performance.now() + 10_000;
      while ((a.inFlight === 0 || b.inFlight === 0) && performance.now() < deadline) await sleep(5);
      expect([a.inFlight, b.inFlight].map((n) => n > 0)).toEqual([true, true]);
      const switched = await dp.setLive('shop', slot('c', c));
      const returnedAt = performance.now();
      const answers = await Promise.all(slow);
      expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
      expect([...new Set(answers.map((answer) => answer.body))].sort()).toEqual(['slow a', 'slow b']);
      expect(switched).toMatchObject({ previous: slot('ab', a, b), drained: true });
      if (switched.inFlightAtSwitch !== undefined) expect(switched.inFlightAtSwitch).toBeGreaterThanOrEqual(2);
      expect(Math.max(...doneAt)).toBeLessThanOrEqual(returnedAt);
      expect(await answeredBy(under.publicUrl('shop'), 3)).toEqual(new Map([['c', 3]]));
    });

    test('a replica that refuses connections (its host lost, its slot gone): reads and writes reach the others', async () => {
      if (dp.capabilities.maxReplicas < 2) return;
      const gone = { host: '127.0.0.1', port: await distinctFreePort() }; // nothing listens: the connection is refused
      await dp.setLive('shop', { kind: 'slot', slotId: 'a-and-gone', replicas: [replicaOf(a), gone] });
      const answers = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const response = await fetch(`${under.publicUrl('shop')}/`, i % 3 === 2 ? { method: 'POST', body: 'x' } : {});
          return `${response.status} ${await response.text()}`;
        }),
      );
      // The built-in router repeats only requests safe to repeat; it then passes the replica over, so writes land on a.
      if (dp.adapter === 'builtin') expect(answers.filter((_, i) => i % 3 !== 2)).toEqual(Array.from({ length: 8 }, () => '200 a'));
      else expect(answers).toEqual(Array.from({ length: 12 }, () => '200 a'));
      const write = await fetch(`${under.publicUrl('shop')}/`, { method: 'POST', body: 'x' });
      expect(`${write.status} ${await write.text()}`).toBe('200 a');
      // Where the data plane counts per backend, the replica it passes over is shown down, the other ready.
      const backends = async () => (await dp.stats?.())?.shop?.live.backends;
      if (!(await backends())) return;
      const stateOf = async (port: number) => (await backends())!.find((b) => b.replica.port === port)?.state;
      await waitUntil('the lost replica is shown down', async () => (await stateOf(gone.port)) === 'down');
      expect(await stateOf(a.port)).toBe('ready');
    });

    test('the maintenance page: 503 with Retry-After and the message, HTML-escaped', async () => {
      await dp.setLive('shop', slot('a', a));
      const target: LiveTarget = { kind: 'maintenance', message: 'Back at 5 & <soon> "really" $HOME 100% {ok}' };
      expect(await dp.setLive('shop', target)).toMatchObject({ previous: slot('a', a), drained: true });
      expectMaintenancePage(await get(`${under.publicUrl('shop')}/any/path`), 'Back at 5 &amp; &lt;soon&gt;');
      const page = (await get(under.publicUrl('shop'))).body;
      expect(page).toContain('shop is being upgraded');
      expect(page).not.toContain('<soon>');
      const decoded = page.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
      expect(decoded).toContain('&quot;really&quot; $HOME 100% {ok}');
      expect((await dp.routes()).shop!.live).toEqual(target);

      await dp.setLive('backoffice', { kind: 'maintenance' });
      expectMaintenancePage(await get(under.publicUrl('backoffice')), 'backoffice is being upgraded');

      await dp.setLive('shop', slot('a', a));
      expect(await answeredBy(under.publicUrl('shop'), 3)).toEqual(new Map([['a', 3]]));
    });

    test('the preview address serves the preview target, the public one the live target', async () => {
      await dp.setLive('shop', slot('a', a));
      expect(await dp.setPreview('shop', slot('next', ...many(b, c)))).toEqual({ previous: null });
      const seen = await answeredBy(under.previewUrl('shop'), 10);
      expect([...seen.keys()].sort()).toEqual(many(b, c).map((x) => x.name));
      expect(await answeredBy(under.publicUrl('shop'), 3)).toEqual(new Map([['a', 3]]));
      expect(sorted((await dp.routes()).shop!.preview)).toEqual(sorted(slot('next', ...many(b, c))));

      const cleared = await dp.setPreview('shop', null);
      expect(cleared.previous).toMatchObject({ kind: 'slot', slotId: 'next' });
      const none = await get(under.previewUrl('shop'));
      expect(none.status).toBe(503);
      expect(none.headers['retry-after']).toMatch(/^\d+$/);
      expect((await dp.routes()).shop!.preview).toBeNull();
    });

    test('bad input is refused naming the field, and changes nothing', async () => {
      await dp.setLive('shop', slot('a', a));
      const before = await dp.routes();
      const bad = { kind: 'slot', slotId: 'x', replicas: [{ host: 'example.com', port: 0 }] } as unknown as LiveTarget;
      await expect(dp.setLive('shop', bad)).rejects.toThrow(InvalidRequestError);
      await expect(dp.setLive('shop', bad)).rejects.toThrow(
        'target.replicas[0].host: must be an IP address (the data plane does not resolve names); ' +
          'target.replicas[0].port: must be between 1 and 65535',
      );
      const elsewhere = { kind: 'elsewhere' } as unknown as LiveTarget;
      const maintenancePreview = { kind: 'maintenance' } as unknown as SlotTarget;
      const refusals: Array<[() => Promise<unknown>, string]> = [
        [() => dp.setLive('shop', { kind: 'slot', slotId: 'x', replicas: [] }), 'target.replicas: must list at least one replica'],
        [() => dp.setLive('shop', elsewhere), 'target.kind: must be "slot" or "maintenance", got string "elsewhere"'],
        [() => dp.setLive('shop', slot('x', a), { drainTimeoutMs: -1 }), 'options.drainTimeoutMs: must be a whole number'],
        [() => dp.setPreview('shop', maintenancePreview), 'target.kind: must be "slot", got string "maintenance"'],
      ];
      for (const [call, message] of refusals) await expect(call()).rejects.toThrow(message);
      await expect(dp.setLive('nope', slot('x', a))).rejects.toThrow(UnknownSiteError);
      await expect(dp.setLive('nope', slot('x', a))).rejects.toThrow('unknown site "nope"; the data plane serves: shop, backoffice');
      expect(await dp.routes()).toEqual(before);
      expect(await answeredBy(under.publicUrl('shop'), 3)).toEqual(new Map([['a', 3]]));
    });

    test('weights share the live traffic between replicas, where the data plane has them', async () => {
      if (!dp.setWeights) {
        expect(dp.capabilities.maxReplicas).toBe(1);
        return;
      }
      await dp.setLive('shop', slot('ab', a, b));
      await dp.setWeights(
        'shop',
        [replicaOf(a), replicaOf(b)].map((r, i) => ({ ...r, weight: i === 0 ? 0 : 10 })),
      );
      expect(await answeredBy(under.publicUrl('shop'), 10)).toEqual(new Map([['b', 10]]));
      await dp.setWeights('shop', [{ ...replicaOf(a), weight: 1 }]);
      const seen = await answeredBy(under.publicUrl('shop'), 44);
      expect(seen.get('a')).toBeGreaterThan(0);
      expect(seen.get('a')).toBeLessThan(seen.get('b')!);
      await expect(dp.setWeights('shop', [{ ...replicaOf(c), weight: 1 }])).rejects.toThrow(
        `weights[0]: 127.0.0.1:${c.port} is not a replica of the live target of shop`,
      );
      const allZero = [replicaOf(a), replicaOf(b)].map((r) => ({ ...r, weight: 0 }));
      await expect(dp.setWeights('shop', allZero)).rejects.toThrow('weights: at least one replica must keep a weight above 0');
      // A new target starts with every replica at weight 1.
      await dp.setLive('shop', slot('ba', b, a));
      const even = await answeredBy(under.publicUrl('shop'), 20);
      expect([...even.keys()].sort()).toEqual(['a', 'b']);
    });

    test('stats count the requests in flight, and per backend where the data plane counts them', async () => {
      if (!dp.stats) return;
      await dp.setLive('shop', slot('a', a));
      await answeredBy(under.publicUrl('shop'), 5);
      const slow = get(`${under.publicUrl('shop')}/slow?ms=1000`);
      while (a.inFlight === 0) await sleep(5);
      const stats = await dp.stats();
      expect(stats.shop!.live.inFlight).toBe(1);
      expect(stats.shop!.preview.inFlight).toBe(0);
      const backend = stats.shop!.live.backends?.find((x) => x.replica.port === a.port && x.state === 'ready');
      if (stats.shop!.live.backends) {
        expect(backend).toMatchObject({ replica: replicaOf(a), state: 'ready', inFlight: 1 });
        expect(backend!.requests).toBeGreaterThanOrEqual(5);
        expect(backend!.responses['2xx']).toBeGreaterThanOrEqual(5);
      }
      await slow;
    });

    test('routes survive a crash of the data plane: restarted, it serves the same targets', async () => {
      await dp.setLive('shop', slot('v9', ...many(a, b)));
      await dp.setPreview('shop', slot('v10', c));
      await dp.setLive('backoffice', { kind: 'maintenance', message: 'Nightly upgrade' });
      const before = normalized(await dp.routes());

      await under.restart();
      expect(normalized(await dp.routes())).toEqual(before);
      const seen = await answeredBy(under.publicUrl('shop'), 10);
      expect([...seen.keys()].sort()).toEqual(many(a, b).map((x) => x.name));
      expect(await answeredBy(under.previewUrl('shop'), 3)).toEqual(new Map([['c', 3]]));
      expectMaintenancePage(await get(under.publicUrl('backoffice')), 'Nightly upgrade');
      // And it takes switches again.
      await dp.setLive('shop', slot('v11', c));
      expect(await answeredBy(under.publicUrl('shop'), 3)).toEqual(new Map([['c', 3]]));
    });
  });
}
