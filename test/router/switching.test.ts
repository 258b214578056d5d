import { Agent, request as httpRequest } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { sleep, slot, startUpstream, type Upstream, useTestRouter } from './support.js';

const acme = useTestRouter();
const { client } = acme;
let a: Upstream;
let b: Upstream;
/** When each slot finished writing its slow response. */
const slowFinishedAt: Record<string, number> = {};

/** GET through a given agent; resolves with what a client sees, never rejects. */
function get(url: string, agent: Agent): Promise<{ status: number; body: string; localPort?: number; reused: boolean; error?: string }> {
  return new Promise((resolve) => {
    const req = httpRequest(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, localPort: res.socket?.localPort, reused: req.reusedSocket }));
      res.on('error', (error) => resolve({ status: 0, body, reused: req.reusedSocket, error: error.message }));
    });
    req.on('error', (error) => resolve({ status: 0, body: '', reused: req.reusedSocket, error: error.message }));
    req.end();
  });
}

/** Answers its name; /slow?ms=N answers after N ms and notes when it finished; other paths after 0-3 ms so requests overlap. */
const slowOrQuick = (name: string) =>
  startUpstream(name, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const delay = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? 1000) : Math.floor(Math.random() * 4);
    req.resume();
    setTimeout(() => {
      if (url.pathname === '/slow') res.once('finish', () => (slowFinishedAt[name] = performance.now()));
      res.end(url.pathname === '/slow' ? `slow-${name}` : name);
    }, delay);
  });

beforeAll(async () => {
  [a, b] = await Promise.all([slowOrQuick('slot-a'), slowOrQuick('slot-b')]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

afterEach(() => {
  a.arrivals.length = 0;
  b.arrivals.length = 0;
});

describe('switching live traffic', () => {
  const steadyStream =
    'under a steady stream of concurrent requests: none fails, each goes to a valid target, none reaches the old target after the acknowledgement';
  test(steadyStream, async () => {
    await client().setLive('shop', slot(a));
    const url = `${acme.router.environments.acme!.sites.shop!.publicUrl}/`;
    const agent = new Agent({ keepAlive: true, maxSockets: 20 });
    const outcomes: Array<{ status: number; body: string; error?: string }> = [];
    let switching = true;

    const worker = async () => {
      while (switching || outcomes.length < 3000) outcomes.push(await get(url, agent));
    };
    const load = Promise.all(Array.from({ length: 20 }, worker));

    // Each switch: when it was asked for, when it was acknowledged, which slot it left.
    const switches: Array<{ from: Upstream; to: Upstream; sentAt: number; ackAt: number; inFlightAtSwitch: number; drained: boolean }> = [];
    let current = a;
    for (let i = 0; i < 8; i += 1) {
      await sleep(120);
      const next = current === a ? b : a;
      const sentAt = performance.now();
      const result = await client().setLive('shop', slot(next));
      switches.push({
        from: current,
        to: next,
        sentAt,
        ackAt: performance.now(),
        inFlightAtSwitch: result.inFlightAtSwitch,
        drained: result.drained,
      });
      current = next;
    }
    await sleep(120);
    switching = false;
    await load;
    agent.destroy();
    const endedAt = performance.now();

    expect(outcomes.length).toBeGreaterThanOrEqual(3000);
    const failed = outcomes.filter((o) => o.status !== 200 || (o.body !== 'slot-a' && o.body !== 'slot-b'));
    expect(failed).toEqual([]);
    expect(switches.every((s) => s.drained)).toBe(true);
    switches.forEach((s, i) => {
      const until = switches[i + 1]?.sentAt ?? endedAt;
      const stragglers = s.from.arrivals.filter((t) => t > s.ackAt && t < until);
      expect(stragglers, `switch ${i + 1} to ${s.to.name}: requests reached ${s.from.name} after the acknowledgement`).toEqual([]);
      expect(s.to.arrivals.filter((t) => t > s.ackAt && t < until).length, `switch ${i + 1}: ${s.to.name} served traffic`).toBeGreaterThan(
        0,
      );
    });
    // Requests really were in flight at the switches, so draining was exercised.
    expect(switches.some((s) => s.inFlightAtSwitch > 0)).toBe(true);
  });

  test('a slow request in flight at the switch finishes on the old slot, and the switch answers only after it finished', async () => {
    await client().setLive('shop', slot(a));
    const shop = acme.router.environments.acme!.sites.shop!.publicUrl;
    const agent = new Agent({ keepAlive: true });
    const slow = get(`${shop}/slow?ms=1000`, agent);
    await waitFor(() => a.arrivals.length === 1);
    const slowArrivedAt = a.arrivals[0]!;
    expect((await client().getRoutes()).sites.shop!.inFlight.live).toBe(1);

    const sentAt = performance.now();
    const switching = client().setLive('shop', slot(b));
    await sleep(150);
    // The switch is already in force while the old slot drains.
    const during = await get(`${shop}/`, agent);
    const result = await switching;
    const ackAt = performance.now();

    expect(during).toMatchObject({ status: 200, body: 'slot-b' });
    expect(await slow).toMatchObject({ status: 200, body: 'slow-slot-a' });
    expect(result).toMatchObject({ previous: { kind: 'slot', slotId: 'slot-a', port: a.port }, drained: true, inFlightAtSwitch: 1 });
    expect(ackAt).toBeGreaterThanOrEqual(slowFinishedAt['slot-a']!);
    // The drain began at the switch, which came before the "during" request reached slot-b, and ended after the slow one finished.
    const switchedBy = b.arrivals[0]!;
    expect(result.drainMs).toBeGreaterThanOrEqual(Math.floor(slowFinishedAt['slot-a']! - switchedBy));
    // About the time the slow request still had to run when the switch was asked for (writing the route file takes a little of it).
    const remaining = 1000 - (sentAt - slowArrivedAt);
    expect(result.drainMs).toBeGreaterThanOrEqual(remaining - 200);
    expect(result.drainMs).toBeLessThan(remaining + 500);
    agent.destroy();
  });

  test('a drain that outlasts drainTimeoutMs answers drained: false, and the slow request is still not cut', async () => {
    await client().setLive('shop', slot(a));
    const agent = new Agent({ keepAlive: true });
    const slow = get(`${acme.router.environments.acme!.sites.shop!.publicUrl}/slow?ms=1500`, agent);
    await waitFor(() => a.arrivals.length === 1);
    const result = await client().setLive('shop', slot(b), { drainTimeoutMs: 200 });
    expect(result).toMatchObject({ drained: false, inFlightAtSwitch: 1 });
    expect(result.drainMs).toBeGreaterThanOrEqual(195);
    expect(result.drainMs).toBeLessThan(1000);
    expect(await slow).toMatchObject({ status: 200, body: 'slow-slot-a' });
    agent.destroy();
  });

  test('switching to maintenance waits for the old slot too; switching away from maintenance has nothing to drain', async () => {
    await client().setLive('shop', slot(a));
    const agent = new Agent({ keepAlive: true });
    const slow = get(`${acme.router.environments.acme!.sites.shop!.publicUrl}/slow?ms=300`, agent);
    await waitFor(() => a.arrivals.length === 1);
    const toMaintenance = await client().setLive('shop', { kind: 'maintenance' });
    expect(toMaintenance).toMatchObject({ drained: true, inFlightAtSwitch: 1 });
    expect(await slow).toMatchObject({ status: 200, body: 'slow-slot-a' });
    expect((await get(`${acme.router.environments.acme!.sites.shop!.publicUrl}/`, agent)).status).toBe(503);
    expect(await client().setLive('shop', slot(b))).toEqual({
      previous: { kind: 'maintenance' },
      drained: true,
      inFlightAtSwitch: 0,
      drainMs: 0,
    });
    agent.destroy();
  });

  test('a keep-alive client connection is not pinned to the old slot', async () => {
    await client().setLive('shop', slot(a));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const url = `${acme.router.environments.acme!.sites.shop!.publicUrl}/`;
    const first = await get(url, agent);
    expect(first).toMatchObject({ status: 200, body: 'slot-a', reused: false });
    await client().setLive('shop', slot(b));
    const second = await get(url, agent);
    expect(second).toMatchObject({ status: 200, body: 'slot-b', reused: true, localPort: first.localPort });
    await client().setLive('shop', slot(a));
    const third = await get(url, agent);
    expect(third).toMatchObject({ status: 200, body: 'slot-a', reused: true, localPort: first.localPort });
    agent.destroy();
  });

  test('concurrent switches are applied one at a time: memory and the route file agree on the last one', async () => {
    const asked = Array.from({ length: 12 }, (_, i) => client().setLive('shop', slot(i % 2 === 0 ? a : b), { drainTimeoutMs: 0 }));
    await Promise.all(asked);
    const live = (await client().getRoutes()).sites.shop!.live;
    const file = JSON.parse(await readFile(join(acme.env.stateDir, 'router', 'acme.json'), 'utf8')) as {
      sites: { shop: { live: unknown } };
    };
    expect(file.sites.shop.live).toEqual(live);
    expect(await (await fetch(`${acme.router.environments.acme!.sites.shop!.publicUrl}/`)).text()).toBe(
      (live as { slotId: string }).slotId,
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 5000) {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}
