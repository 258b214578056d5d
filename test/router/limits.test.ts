import { connect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { sleep, slot, startUpstream, type Upstream, useTestRouter } from './support.js';

// Short limits, so a test sees them act; the margins above them allow for a loaded machine.
const headersTimeoutMs = 1000;
const requestTimeoutMs = 3000;
const keepAliveTimeoutMs = 1000;
const slotTimeoutMs = 1000;
const margin = 4000;

const acme = useTestRouter({
  router:
    `limits: { headersTimeout: ${headersTimeoutMs}ms, requestTimeout: ${requestTimeoutMs}ms, ` +
    `keepAliveTimeout: ${keepAliveTimeoutMs}ms, slotTimeout: ${slotTimeoutMs}ms }`,
});
const { client } = acme;
let quick: Upstream;
let shopPort: number;

beforeAll(async () => {
  quick = await startUpstream('quick');
  await client().setLive('shop', slot(quick));
  shopPort = acme.env.ports.shop.public;
});

afterAll(async () => {
  await quick?.close();
});

/** A raw client connection: what it received, and when the router closed it. */
interface RawConnection {
  socket: Socket;
  received: () => string;
  /** ms after connecting at which the router closed the connection. */
  closed: Promise<number>;
}

function open(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const startedAt = performance.now();
    const socket = connect(port, '127.0.0.1');
    let received = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (received += chunk));
    socket.on('error', () => undefined);
    const closed = new Promise<number>((done) => socket.once('close', () => done(performance.now() - startedAt)));
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
    socket.once('error', reject);
  });
}

describe('client limits', () => {
  test('a slowloris connection, sending its headers byte by byte, is closed within the header timeout', async () => {
    const conn = await open(shopPort);
    const headers = `GET / HTTP/1.1\r\nHost: shop\r\nX-Slow: ${'z'.repeat(500)}\r\n\r\n`;
    let sent = 0;
    const drip = setInterval(() => {
      if (!conn.socket.destroyed && sent < headers.length) conn.socket.write(headers[sent++]!);
    }, 50);
    const closedAfter = await conn.closed;
    clearInterval(drip);
    expect(sent).toBeLessThan(headers.length);
    expect(closedAfter).toBeGreaterThanOrEqual(headersTimeoutMs - 50);
    expect(closedAfter).toBeLessThan(headersTimeoutMs + margin);
    // It had sent part of a request: it is told why.
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(quick.arrivals).toEqual([]);
    // Meanwhile, and after, the site serves.
    expect(await (await fetch(`${acme.router.environments.acme!.sites.shop!.publicUrl}/`)).text()).toBe('quick');
  });

  test('a request body sent too slowly is cut at the request timeout', async () => {
    const conn = await open(shopPort);
    conn.socket.write('POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Length: 100000\r\n\r\n');
    const drip = setInterval(() => conn.socket.destroyed || conn.socket.write('x'), 100);
    const closedAfter = await conn.closed;
    clearInterval(drip);
    expect(closedAfter).toBeGreaterThanOrEqual(requestTimeoutMs - 50);
    expect(closedAfter).toBeLessThan(requestTimeoutMs + margin);
    // The client was slow, not the slot (which waits for the body): no 504 blaming it.
    expect(conn.received()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    await expect.poll(async () => (await client().getRoutes()).sites.shop!.inFlight.live).toBe(0);
  });

  test('a connection that opens and says nothing is closed silently: no unsolicited 400', async () => {
    const conn = await open(shopPort);
    const closedAfter = await conn.closed;
    expect(conn.received()).toBe('');
    expect(closedAfter).toBeLessThan(headersTimeoutMs + margin);
  });

  test('an idle kept-alive connection is closed silently after its last response', async () => {
    const conn = await open(shopPort);
    conn.socket.write('GET /first HTTP/1.1\r\nHost: shop\r\n\r\n');
    await expect.poll(() => conn.received()).toMatch(/\r\n\r\nquick$/);
    const answered = conn.received();
    const closedAfter = await conn.closed;
    // Nothing but the one answer: the idle connection is closed without a word.
    expect(conn.received()).toBe(answered);
    expect(answered.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(answered).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(closedAfter).toBeLessThan(keepAliveTimeoutMs + headersTimeoutMs + margin);
  });

  test('a malformed request is still answered 400, an oversized header 431', async () => {
    const garbage = await open(shopPort);
    garbage.socket.write('\x16\x03\x01 not http\r\n\r\n');
    await garbage.closed;
    expect(garbage.received()).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const huge = await open(shopPort);
    huge.socket.write(`GET / HTTP/1.1\r\nHost: shop\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`);
    await huge.closed;
    expect(huge.received()).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
  });
});

describe('slot limits', () => {
  test('a slot that never answers gets a 504 naming it within the slot timeout', async () => {
    const silent = await startUpstream('silent', () => undefined);
    await client().setLive('backoffice', slot(silent));
    const startedAt = performance.now();
    const response = await fetch(`${acme.router.environments.acme!.sites.backoffice!.publicUrl}/report`, {
      headers: { accept: 'application/json' },
    });
    const tookMs = performance.now() - startedAt;
    expect(response.status).toBe(504);
    expect(await response.json()).toMatchObject({
      error: 'gateway-timeout',
      detail: `slot silent at 127.0.0.1:${silent.port} did not answer within ${slotTimeoutMs} ms`,
    });
    expect(tookMs).toBeGreaterThanOrEqual(slotTimeoutMs - 50);
    expect(tookMs).toBeLessThan(slotTimeoutMs + margin);
    expect((await client().getRoutes()).sites.backoffice!.inFlight.live).toBe(0);
    await silent.close();
  });

  test('a slot that stalls mid-response is cut off, and the router keeps serving', async () => {
    const stalling = await startUpstream('stalling', (_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial');
    });
    await client().setLive('backoffice', slot(stalling));
    const startedAt = performance.now();
    const response = await fetch(`${acme.router.environments.acme!.sites.backoffice!.publicUrl}/`);
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(performance.now() - startedAt).toBeLessThan(slotTimeoutMs + margin);
    await expect.poll(async () => (await client().getRoutes()).sites.backoffice!.inFlight.live).toBe(0);
    await client().setLive('backoffice', slot(quick));
    expect(await (await fetch(`${acme.router.environments.acme!.sites.backoffice!.publicUrl}/`)).text()).toBe('quick');
    await stalling.close();
  });

  test('a slow slot that keeps sending is not cut', async () => {
    const trickling = await startUpstream('trickling', (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      let n = 0;
      const tick = setInterval(() => {
        res.write(`${n}.`);
        if (++n === 6) {
          clearInterval(tick);
          res.end();
        }
      }, slotTimeoutMs / 2);
    });
    await client().setLive('backoffice', slot(trickling));
    expect(await (await fetch(`${acme.router.environments.acme!.sites.backoffice!.publicUrl}/`)).text()).toBe('0.1.2.3.4.5.');
    await trickling.close();
  });
});

describe('the connection cap', () => {
  const capped = useTestRouter({ router: 'limits: { maxConnections: 3 }' });
  beforeAll(async () => {
    await capped.client().setLive('shop', slot(quick));
  });

  test('connections beyond maxConnections per listener are closed at once; a freed place is taken again', async () => {
    const port = capped.env.ports.shop.public;
    const held = await Promise.all([open(port), open(port), open(port)]);
    // The router counts a connection once it accepted it: give it a moment on a loaded machine.
    await sleep(300);
    const extra = await open(port);
    extra.socket.write('GET / HTTP/1.1\r\nHost: shop\r\n\r\n');
    const closedAfter = await extra.closed;
    expect(extra.received()).toBe('');
    expect(closedAfter).toBeLessThan(margin);
    held[0]!.socket.destroy();
    await held[0]!.closed;
    await expect
      .poll(async () => {
        const conn = await open(port);
        conn.socket.write('GET / HTTP/1.1\r\nHost: shop\r\nConnection: close\r\n\r\n');
        await conn.closed;
        return conn.received();
      })
      .toMatch(/\r\n\r\nquick$/);
    for (const conn of held) conn.socket.destroy();
  });
});
