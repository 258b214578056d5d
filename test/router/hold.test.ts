import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { adminFetch, sleep, slot, startUpstream, type Upstream, useTestRouter } from './support.js';

const acme = useTestRouter();
const { client } = acme;
let a: Upstream;
let b: Upstream;
/** Responses of slot-a to /slow that finished (the test's order of events, never a time). */
let slowFinished = 0;

/** Answers its name and the body it received; /slow?ms=N after N ms. */
const slotStandIn = (name: string) =>
  startUpstream(name, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const delay = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? 500) : 0;
      setTimeout(() => {
        if (url.pathname === '/slow') res.once('finish', () => (slowFinished += 1));
        res.end(`${name}:${body}`);
      }, delay);
    });
  });

const publicUrl = () => acme.router.environments.acme!.sites.shop!.publicUrl;

/** Resolves once `count` requests wait in the hold of shop. */
async function heldRequests(count: number): Promise<void> {
  for (;;) {
    const view = await client().getRoutes();
    if ((view.sites.shop!.held?.requests ?? 0) >= count) return;
    await sleep(10);
  }
}

beforeAll(async () => {
  [a, b] = await Promise.all([slotStandIn('slot-a'), slotStandIn('slot-b')]);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

describe('holding public traffic for a switch', () => {
  test('held requests are neither answered nor refused, then all go to the new target: none to the old', async () => {
    await client().setLive('shop', slot(a));
    const hold = await client().hold('shop', { timeoutMs: 30_000 });
    expect(hold).toMatchObject({ drained: true, inFlightAtHold: 0, timeoutMs: 30_000 });
    const arrivalsAtA = a.arrivals.length;
    const writes = Array.from({ length: 20 }, (_, i) =>
      fetch(`${publicUrl()}/orders`, { method: 'POST', body: `order-${i}` }).then(async (r) => ({
        status: r.status,
        body: await r.text(),
      })),
    );
    await heldRequests(20);
    expect(a.arrivals.length).toBe(arrivalsAtA);
    expect(b.arrivals.length).toBe(0);

    await client().setLive('shop', slot(b));
    const answers = await Promise.all(writes);
    expect(answers.map((r) => r.status)).toEqual(Array.from({ length: 20 }, () => 200));
    expect(answers.map((r) => r.body).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `slot-b:order-${i}`).sort());
    expect(a.arrivals.length).toBe(arrivalsAtA);
    expect((await client().getRoutes()).sites.shop!.held).toBeUndefined();
  });

  test('a request held past the timeout gets the maintenance page with Retry-After; a switch to the same target ends the hold', async () => {
    await client().setLive('shop', slot(b));
    await client().hold('shop', { timeoutMs: 100 });
    const late = await fetch(`${publicUrl()}/`, { headers: { accept: 'application/json' } });
    expect(late.status).toBe(503);
    expect(late.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await late.json()).toMatchObject({ error: 'maintenance', site: 'shop' });

    const held = fetch(`${publicUrl()}/`).then((r) => r.text());
    await heldRequests(1);
    expect((await client().setLive('shop', slot(b))).previous).toMatchObject({ slotId: 'slot-b' });
    expect(await held).toBe('slot-b:');
    expect(await (await fetch(`${publicUrl()}/`)).text()).toBe('slot-b:');
  });

  test('the hold returns once the requests in flight to the live target finished there', async () => {
    await client().setLive('shop', slot(a));
    const before = slowFinished;
    const inFlight = fetch(`${publicUrl()}/slow?ms=400`).then((r) => r.text());
    while (acme.router.environments.acme!.switchboard.listener('shop', 'live').inFlight.value === 0) await sleep(5);

    const hold = await client().hold('shop');
    expect(hold).toMatchObject({ drained: true, inFlightAtHold: 1, timeoutMs: 5_000 });
    expect(slowFinished).toBe(before + 1);
    expect(await inFlight).toBe('slot-a:');
    await client().setLive('shop', slot(b));
  });

  test('a hold the router cannot take is refused, naming the field', async () => {
    const url = `${acme.router.adminUrl}/v1/environments/acme/sites/shop/hold`;
    const tooLong = await adminFetch(acme.env, url, { method: 'PUT', body: JSON.stringify({ timeoutMs: 60_000 }) });
    expect(tooLong.status).toBe(400);
    expect(((await tooLong.json()) as { error: string }).error).toMatch(/^timeoutMs: must be at most 30000/);
    const unknown = await adminFetch(acme.env, url, { method: 'PUT', body: JSON.stringify({ timeout: 1 }) });
    expect(unknown.status).toBe(400);
    expect(((await unknown.json()) as { error: string }).error).toMatch(/timeout/);
    expect((await client().getRoutes()).sites.shop!.held).toBeUndefined();
  });
});
