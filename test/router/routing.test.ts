import { createHash, randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { createServer as createNetServer, type Socket } from 'node:net';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { RouterClientError } from '../../src/platform/router/client.js';
import {
  adminFetch,
  distinctFreePort,
  rawExchange,
  routerClient,
  sleep,
  slot,
  startUpstream,
  type Upstream,
  useTestRouter,
} from './support.js';

const acme = useTestRouter();
const { client } = acme;
let a: Upstream;
let b: Upstream;
let shop: { publicUrl: string; previewUrl: string };
let backoffice: { publicUrl: string; previewUrl: string };

beforeAll(async () => {
  [a, b] = await Promise.all([startUpstream('slot-a'), startUpstream('slot-b')]);
  shop = acme.router.environments.acme!.sites.shop!;
  backoffice = acme.router.environments.acme!.sites.backoffice!;
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
});

describe('admin API', () => {
  test('healthz names the host and the environments it serves', async () => {
    const response = await fetch(`${acme.router.adminUrl}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ ok: true, host: 'local', environments: ['acme'] });
    expect(await client().health()).toEqual({ ok: true, host: 'local', environments: ['acme'] });
  });

  test('a fresh router has no routes for any site', async () => {
    const routes = await client().getRoutes();
    expect(routes).toEqual({
      environment: 'acme',
      sites: {
        shop: { live: null, preview: null, inFlight: { live: 0, preview: 0 } },
        backoffice: { live: null, preview: null, inFlight: { live: 0, preview: 0 } },
      },
    });
  });

  test.each([
    [{ kind: 'slot', slotId: 'x', port: '80' }, 'port: must be a port number'],
    [{ kind: 'slot', slotId: 'x', port: 70000 }, 'port: must be between 1 and 65535'],
    [{ kind: 'slot', port: 80 }, 'slotId: is required'],
    [{ kind: 'blue', slotId: 'x', port: 80 }, 'kind: must be "slot" or "maintenance", got string "blue"'],
    [{ slotId: 'x', port: 80 }, 'kind: is required'],
    [{ kind: 'slot', slotId: 'x', port: 80, weight: 5 }, 'unknown field(s) weight'],
    [{ kind: 'slot', slotId: 'x', port: 80, host: 'http://evil/' }, 'host: must be a hostname or IP address'],
    [{ kind: 'maintenance', message: 42 }, 'message: must be a string'],
    [[1, 2], 'body: must be a JSON object'],
  ])('PUT live %j is refused with 400 naming the field', async (body, message) => {
    const response = await adminFetch(acme.env, `${acme.router.adminUrl}/v1/environments/acme/sites/shop/live`, {
      method: 'PUT',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain(message);
    expect((await client().getRoutes()).sites.shop!.live).toBeNull();
  });

  test('bad JSON, an empty body and a bad drainTimeoutMs are refused with 400', async () => {
    const put = (path: string, body: string) => adminFetch(acme.env, `${acme.router.adminUrl}${path}`, { method: 'PUT', body });
    const notJson = await put('/v1/environments/acme/sites/shop/live', '{kind: slot');
    expect(notJson.status).toBe(400);
    expect(((await notJson.json()) as { error: string }).error).toMatch(/^body: must be JSON/);
    const empty = await put('/v1/environments/acme/sites/shop/live', '');
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: string }).error).toMatch(/^body: is required/);
    const badDrain = await put('/v1/environments/acme/sites/shop/live?drainTimeoutMs=soon', JSON.stringify(slot(a)));
    expect(badDrain.status).toBe(400);
    expect(((await badDrain.json()) as { error: string }).error).toBe('drainTimeoutMs: must be a whole number of milliseconds');
    const emptyDrain = await put('/v1/environments/acme/sites/shop/live?drainTimeoutMs=', JSON.stringify(slot(a)));
    expect(emptyDrain.status).toBe(400);
    const hugeDrain = await put('/v1/environments/acme/sites/shop/live?drainTimeoutMs=99999999', JSON.stringify(slot(a)));
    expect(((await hugeDrain.json()) as { error: string }).error).toBe('drainTimeoutMs: must be at most 3600000 (one hour)');
    expect((await client().getRoutes()).sites.shop!.live).toBeNull();
  });

  test('a preview must be a slot or null', async () => {
    const response = await adminFetch(acme.env, `${acme.router.adminUrl}/v1/environments/acme/sites/shop/preview`, {
      method: 'PUT',
      body: JSON.stringify({ kind: 'maintenance' }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toContain('kind: must be "slot"');
  });

  test('an unknown site or environment is 404, and so is an unknown endpoint', async () => {
    const response = await adminFetch(acme.env, `${acme.router.adminUrl}/v1/environments/acme/sites/blog/live`, {
      method: 'PUT',
      body: JSON.stringify(slot(a)),
    });
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: string }).error).toBe(
      'unknown site "blog" in environment "acme"; its sites are: shop, backoffice',
    );
    const preview = await adminFetch(acme.env, `${acme.router.adminUrl}/v1/environments/acme/sites/constructor/preview`, {
      method: 'PUT',
      body: 'null',
    });
    expect(preview.status).toBe(404);
    const endpoint = await adminFetch(acme.env, `${acme.router.adminUrl}/v1/nothing`);
    expect(endpoint.status).toBe(404);
    const elsewhere = await routerClient(acme.router.adminUrl, acme.env, 'blog')
      .getRoutes()
      .catch((e: unknown) => e);
    expect((elsewhere as RouterClientError).status).toBe(404);
    expect((elsewhere as Error).message).toBe('unknown environment "blog": the router of host local serves acme');
  });

  test('the client throws the router message and status', async () => {
    const error = await client()
      .setLive('shop', { kind: 'slot', slotId: 'x', port: 0 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RouterClientError);
    expect((error as RouterClientError).status).toBe(400);
    expect((error as Error).message).toBe('port: must be between 1 and 65535');
    const unknown = await client()
      .setPreview('blog', null)
      .catch((e: unknown) => e);
    expect((unknown as RouterClientError).status).toBe(404);
    const down = await routerClient(`http://127.0.0.1:${await distinctFreePort()}`, acme.env)
      .getRoutes()
      .catch((e: unknown) => e);
    expect((down as RouterClientError).status).toBe(0);
    expect((down as Error).message).toMatch(/is unreachable \(ECONNREFUSED\)/);
  });
});

describe('when nothing is deployed', () => {
  test('public requests get 503 "no live version of <site> yet" with Retry-After', async () => {
    const response = await fetch(`${backoffice.publicUrl}/`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await response.text()).toContain('no live version of backoffice yet');
    const json = await fetch(`${backoffice.publicUrl}/api/orders`, { headers: { accept: 'application/json' } });
    expect(json.status).toBe(503);
    expect(await json.json()).toMatchObject({
      error: 'no-live-version',
      title: 'no live version of backoffice yet',
      site: 'backoffice',
      status: 503,
    });
  });

  test('preview requests get 503 when there is no preview', async () => {
    const response = await fetch(`${backoffice.previewUrl}/`);
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(await response.text()).toContain('no preview of backoffice right now');
  });
});

describe('routing', () => {
  test('public requests go to live, preview requests to preview', async () => {
    const live = await client().setLive('shop', slot(a));
    expect(live).toEqual({ previous: null, drained: true, inFlightAtSwitch: 0, drainMs: 0 });
    expect(await client().setPreview('shop', slot(b))).toEqual({ previous: null });
    expect(await (await fetch(`${shop.publicUrl}/`)).text()).toBe('slot-a');
    expect(await (await fetch(`${shop.previewUrl}/`)).text()).toBe('slot-b');
    const routes = await client().getRoutes();
    expect(routes.sites.shop).toEqual({
      live: { kind: 'slot', slotId: 'slot-a', port: a.port, host: '127.0.0.1' },
      preview: { kind: 'slot', slotId: 'slot-b', port: b.port, host: '127.0.0.1' },
      inFlight: { live: 0, preview: 0 },
    });
  });

  test('setting the same route again is a no-op that answers drained at once, without rewriting the file', async () => {
    await client().setLive('shop', slot(a));
    const file = join(acme.env.stateDir, 'router', 'acme.json');
    const before = (await stat(file)).mtimeMs;
    await sleep(20);
    const again = await client().setLive('shop', { ...slot(a), host: '127.0.0.1' });
    expect(again).toEqual({
      previous: { kind: 'slot', slotId: 'slot-a', port: a.port, host: '127.0.0.1' },
      drained: true,
      inFlightAtSwitch: 0,
      drainMs: 0,
    });
    expect((await stat(file)).mtimeMs).toBe(before);
    expect(await client().setPreview('shop', slot(b))).toEqual({
      previous: { kind: 'slot', slotId: 'slot-b', port: b.port, host: '127.0.0.1' },
    });
  });

  test('the preview can be removed with null', async () => {
    await client().setPreview('shop', slot(b));
    expect(await client().setPreview('shop', null)).toEqual({
      previous: { kind: 'slot', slotId: 'slot-b', port: b.port, host: '127.0.0.1' },
    });
    expect((await fetch(`${shop.previewUrl}/`)).status).toBe(503);
  });

  test('maintenance answers 503 with Retry-After and an HTML page naming the site and the message', async () => {
    await client().setLive('backoffice', { kind: 'maintenance', message: 'Back at 10:00 <UTC>' });
    const response = await fetch(`${backoffice.publicUrl}/reports`, {
      headers: { accept: 'text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8' },
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await response.text();
    expect(html).toContain('<h1>backoffice is being upgraded</h1>');
    expect(html).toContain('Back at 10:00 &lt;UTC&gt;');
  });

  test('maintenance answers JSON when the client accepts application/json', async () => {
    await client().setLive('backoffice', { kind: 'maintenance' });
    const response = await fetch(`${backoffice.publicUrl}/api/reports`, { headers: { accept: 'application/json' } });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('30');
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await response.json()).toMatchObject({
      error: 'maintenance',
      title: 'backoffice is being upgraded',
      site: 'backoffice',
      status: 503,
    });
  });

  test('an unreachable slot answers 502 with a clear message', async () => {
    const nobody = await distinctFreePort();
    await client().setLive('backoffice', { kind: 'slot', slotId: 'gone', port: nobody });
    const response = await fetch(`${backoffice.publicUrl}/`);
    expect(response.status).toBe(502);
    expect(await response.text()).toContain(`slot gone at 127.0.0.1:${nobody} refused the connection (is it running?)`);
    const json = await fetch(`${backoffice.publicUrl}/`, { headers: { accept: 'application/json' } });
    expect(await json.json()).toMatchObject({ error: 'bad-gateway', status: 502, title: 'backoffice is unreachable' });
    expect((await client().getRoutes()).sites.backoffice!.inFlight).toEqual({ live: 0, preview: 0 });
  });
});

describe('proxying', () => {
  let echo: Upstream;
  beforeAll(async () => {
    // Echoes what it received; answers 201 with repeated and custom headers.
    echo = await startUpstream('echo', (req, res) => {
      const hash = createHash('sha256');
      let length = 0;
      req.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        length += chunk.length;
      });
      req.on('end', () => {
        const body = JSON.stringify({
          method: req.method,
          url: req.url,
          headers: req.headers,
          rawHeaders: req.rawHeaders,
          length,
          sha256: hash.digest('hex'),
        });
        res.writeHead(201, 'Made It', [
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
          ['X-Slot', 'echo'],
          ['Content-Type', 'application/json'],
        ]);
        res.end(body);
      });
    });
    await client().setLive('shop', slot(echo));
  });
  afterAll(() => echo.close());

  test('a POST body, the method, path, query and headers arrive intact; status and headers come back', async () => {
    const body = randomBytes(2 * 1024 * 1024 + 17);
    const response = await fetch(`${shop.publicUrl}/orders/42?expand=lines&x=%20y`, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/octet-stream',
        'x-request-id': 'req-123',
        authorization: 'Bearer t0k3n',
        'x-forwarded-for': '203.0.113.9',
      },
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-slot')).toBe('echo');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const seen = (await response.json()) as {
      method: string;
      url: string;
      headers: Record<string, string>;
      length: number;
      sha256: string;
    };
    expect(seen.method).toBe('POST');
    expect(seen.url).toBe('/orders/42?expand=lines&x=%20y');
    expect(seen.length).toBe(body.length);
    expect(seen.sha256).toBe(createHash('sha256').update(body).digest('hex'));
    expect(seen.headers['x-request-id']).toBe('req-123');
    expect(seen.headers.authorization).toBe('Bearer t0k3n');
    expect(seen.headers['content-type']).toBe('application/octet-stream');
    expect(seen.headers['content-length']).toBe(String(body.length));
    expect(seen.headers.host).toBe(new URL(shop.publicUrl).host);
    // The client's own X-Forwarded-For is not trusted by default (test/router/forwarded.test.ts).
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe(new URL(shop.publicUrl).host);
  });

  test('a request in absolute form reaches the slot as a path; a target that is no path gets 400, not the slot', async () => {
    const raw = (text: string) => rawExchange(Number(new URL(shop.publicUrl).port), text);
    const absolute = await raw('GET http://shop.example/orders?id=7 HTTP/1.1\r\nHost: shop.example\r\nConnection: close\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 201 /);
    expect(absolute).toContain('"method":"GET","url":"/orders?id=7"');
    const asterisk = await raw('OPTIONS * HTTP/1.1\r\nHost: shop.example\r\nAccept: application/json\r\nConnection: close\r\n\r\n');
    expect(asterisk).toMatch(/^HTTP\/1\.1 400 /);
    expect(asterisk).toContain('the request target must be a path, got \\"*\\"');
  });

  test('a chunked upload streams through and keeps the status message', async () => {
    const parts = [randomBytes(10_000), randomBytes(1), randomBytes(70_000)];
    const { status, statusMessage, body } = await new Promise<{ status?: number; statusMessage?: string; body: string }>(
      (resolve, reject) => {
        const req = httpRequest(
          `${shop.publicUrl}/upload`,
          { method: 'PUT', headers: { 'x-custom': 'kept', connection: 'keep-alive, x-custom-hop', 'x-custom-hop': 'dropped' } },
          (res) => {
            let text = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => (text += chunk));
            res.on('end', () => resolve({ status: res.statusCode, statusMessage: res.statusMessage, body: text }));
          },
        );
        req.on('error', reject);
        void (async () => {
          for (const part of parts) {
            req.write(part);
            await sleep(10);
          }
          req.end();
        })();
      },
    );
    expect(status).toBe(201);
    expect(statusMessage).toBe('Made It');
    const seen = JSON.parse(body) as { method: string; length: number; sha256: string; headers: Record<string, string> };
    expect(seen.method).toBe('PUT');
    expect(seen.length).toBe(80_001);
    expect(seen.sha256).toBe(createHash('sha256').update(Buffer.concat(parts)).digest('hex'));
    expect(seen.headers['x-custom']).toBe('kept');
    expect(seen.headers['x-custom-hop']).toBeUndefined();
  });

  test('a response is streamed, not buffered', async () => {
    const streamer = await startUpstream('streamer', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      setTimeout(() => res.end('second'), 600);
    });
    await client().setLive('backoffice', slot(streamer));
    const started = performance.now();
    const { firstChunkMs, endMs, text } = await new Promise<{ firstChunkMs: number; endMs: number; text: string }>((resolve, reject) => {
      httpRequest(`${backoffice.publicUrl}/`, (res) => {
        let firstChunkMs = -1;
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (firstChunkMs < 0) firstChunkMs = performance.now() - started;
          text += chunk;
        });
        res.on('end', () => resolve({ firstChunkMs, endMs: performance.now() - started, text }));
      })
        .on('error', reject)
        .end();
    });
    expect(text).toBe('first;second');
    expect(firstChunkMs).toBeLessThan(400);
    expect(endMs).toBeGreaterThanOrEqual(590);
    await streamer.close();
  });

  test('headers a slot sends before its body reach the client at once (a stream that starts later)', async () => {
    const later = await startUpstream('later', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.flushHeaders();
      setTimeout(() => res.end('data: late\n\n'), 1500);
    });
    await client().setLive('backoffice', slot(later));
    const started = performance.now();
    const response = await fetch(`${backoffice.publicUrl}/events`);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe('data: late\n\n');
    expect(performance.now() - started).toBeGreaterThanOrEqual(1400);
    await later.close();
  });

  test('a client that aborts does not crash the router, frees its in-flight slot and cancels the upstream request', async () => {
    let upstreamSawClose = false;
    const hanging = await startUpstream('hanging', (req) => {
      req.socket.on('close', () => (upstreamSawClose = true));
    });
    await client().setLive('backoffice', slot(hanging));
    const controller = new AbortController();
    const aborted = fetch(`${backoffice.publicUrl}/slow`, { signal: controller.signal }).catch((e: unknown) => e);
    await waitFor(() => hanging.arrivals.length === 1);
    expect((await client().getRoutes()).sites.backoffice!.inFlight.live).toBe(1);
    controller.abort();
    expect(await aborted).toBeInstanceOf(Error);
    await waitFor(async () => (await client().getRoutes()).sites.backoffice!.inFlight.live === 0);
    await waitFor(() => upstreamSawClose);
    await client().setLive('backoffice', slot(a));
    expect(await (await fetch(`${backoffice.publicUrl}/`)).text()).toBe('slot-a');
    await hanging.close();
  });

  test('a slot that breaks off mid-response breaks off the client response, and the router keeps serving', async () => {
    const breaking = await startUpstream('breaking', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
      setTimeout(() => res.socket?.destroy(), 50);
    });
    await client().setLive('backoffice', slot(breaking));
    const response = await fetch(`${backoffice.publicUrl}/`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await waitFor(async () => (await client().getRoutes()).sites.backoffice!.inFlight.live === 0);
    await client().setLive('backoffice', slot(a));
    expect(await (await fetch(`${backoffice.publicUrl}/`)).text()).toBe('slot-a');
    await breaking.close();
  });

  test('a pooled connection the slot closed as it was reused is not a failure (bodyless requests are retried once)', async () => {
    // A slot that serves one request per connection and drops the connection when a second one arrives on it.
    const port = await distinctFreePort();
    const sockets = new Set<Socket>();
    const oneShot = createNetServer((socket) => {
      sockets.add(socket);
      let received = '';
      let served = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        while (received.includes('\r\n\r\n')) {
          received = received.slice(received.indexOf('\r\n\r\n') + 4);
          if (served++ === 0)
            socket.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60\r\n\r\none-shot');
          else socket.destroy();
        }
      });
      socket.on('error', () => undefined);
    });
    await new Promise<void>((resolve) => oneShot.listen(port, '127.0.0.1', resolve));
    await client().setLive('backoffice', { kind: 'slot', slotId: 'one-shot', port });
    for (let i = 0; i < 10; i += 1) {
      const response = await fetch(`${backoffice.publicUrl}/${i}`);
      expect(await response.text()).toBe('one-shot');
      expect(response.status).toBe(200);
    }
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => oneShot.close(resolve));
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await condition())) {
    if (performance.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}
