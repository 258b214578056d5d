/**
 * The router's connections to a slot, against real HTTP servers on loopback: what the proxy relies on beyond the
 * routing tests (HEAD, informational answers, long header blocks, back-pressure, bodies ended by a close, reuse).
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import {
  SlotConnections,
  type SlotError,
  type SlotExchangeController,
  type SlotRequest,
} from '../../src/platform/router/slot-connections.js';

interface Answer {
  status: number;
  headers: string[];
  body: Buffer;
  error?: SlotError;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve).closeAllConnections())));
});

async function slot(listener: RequestListener): Promise<{ port: number; connections: () => number }> {
  const server = createServer(listener);
  servers.push(server);
  let connections = 0;
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, connections: () => connections };
}

const get = (path: string, method = 'GET'): SlotRequest => ({
  method,
  path,
  headers: ['Host', 'shop.test'],
  body: null,
  headersTimeout: 5000,
  bodyTimeout: 5000,
});

/** Sends one request; `reading` decides, chunk by chunk, whether to pause the answer for a while. */
function exchange(connections: SlotConnections, request: SlotRequest, reading?: (controller: SlotExchangeController) => void) {
  return new Promise<Answer>((resolve) => {
    const answer: Answer = { status: 0, headers: [], body: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    connections.dispatch(request, {
      onRequestStart: () => undefined,
      onResponseStart: (_c, status, headers) => Object.assign(answer, { status, headers }),
      onResponseData: (controller, chunk) => {
        chunks.push(chunk);
        reading?.(controller);
      },
      onResponseEnd: () => resolve({ ...answer, body: Buffer.concat(chunks) }),
      onResponseError: (_c, error) => resolve({ ...answer, body: Buffer.concat(chunks), error }),
    });
  });
}

/** Pauses after every piece and resumes a moment later: the proxy's slow client. */
const slowReader = (controller: SlotExchangeController) => {
  controller.pause();
  setTimeout(() => controller.resume(), 2);
};

describe('connections to a slot', () => {
  test('kept alive: three requests in turn share one connection', async () => {
    const s = await slot((_req, res) => res.end('ok'));
    const connections = new SlotConnections('127.0.0.1', s.port, 1000);
    for (let i = 0; i < 3; i += 1) expect((await exchange(connections, get('/'))).body.toString()).toBe('ok');
    expect(s.connections()).toBe(1);
    await connections.close();
  });

  test('a HEAD answer has no body whatever its Content-Length, and the connection serves the next request', async () => {
    const s = await slot((req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.end(req.method === 'HEAD' ? undefined : 'x'.repeat(1000));
    });
    const connections = new SlotConnections('127.0.0.1', s.port, 1000);
    const head = await exchange(connections, get('/', 'HEAD'));
    expect([head.status, head.body.length, head.error]).toEqual([200, 0, undefined]);
    expect((await exchange(connections, get('/'))).body.length).toBe(1000);
    expect(s.connections()).toBe(1);
    await connections.close();
  });

  test('103 Early Hints are skipped: the final answer is the one passed on', async () => {
    const s = await slot((_req, res) => {
      res.writeEarlyHints({ link: '</style.css>; rel=preload' });
      res.writeHead(201, { 'x-final': 'yes' }).end('made');
    });
    const connections = new SlotConnections('127.0.0.1', s.port, 1000);
    const answer = await exchange(connections, get('/'));
    expect([answer.status, answer.body.toString(), answer.headers.includes('x-final')]).toEqual([201, 'made', true]);
    await connections.close();
  });

  test('a long header block arrives whole, in order', async () => {
    const s = await slot((_req, res) => {
      for (let i = 0; i < 80; i += 1) res.setHeader(`x-h${i}`, `v${i}`);
      res.end('ok');
    });
    const connections = new SlotConnections('127.0.0.1', s.port, 1000);
    const answer = await exchange(connections, get('/'));
    const names = answer.headers.filter((_, i) => i % 2 === 0).filter((n) => n.startsWith('x-h'));
    expect(names).toEqual(Array.from({ length: 80 }, (_, i) => `x-h${i}`));
    await connections.close();
  });

  test('a large body read by a slow client arrives whole and in order', async () => {
    const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => `${i}\n`).join(''));
    const s = await slot((_req, res) => res.end(body));
    const connections = new SlotConnections('127.0.0.1', s.port, 1000);
    const answer = await exchange(connections, get('/'), slowReader);
    expect(answer.error).toBeUndefined();
    expect(answer.body.equals(body)).toBe(true);
    await connections.close();
  });

  test('an answer that ends with the connection (no length) arrives whole, even to a slow client', async () => {
    const tcp = createTcpServer((socket) => {
      socket.once('data', () => socket.end(`HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n${'y'.repeat(100_000)}`));
    });
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const connections = new SlotConnections('127.0.0.1', (tcp.address() as AddressInfo).port, 1000);
    try {
      const answer = await exchange(connections, get('/'), slowReader);
      expect([answer.error, answer.body.length]).toEqual([undefined, 100_000]);
    } finally {
      tcp.close();
    }
  });

  test('a chunked request body streams through as chunks; a slot that closes mid-answer is an error, not an end', async () => {
    const s = await slot((req, res) => {
      const parts: Buffer[] = [];
      req
        .on('data', (c: Buffer) => parts.push(c))
        .on('end', () => {
          if (req.url === '/break') {
            res.writeHead(200, { 'content-length': '100' }).write('partial');
            setTimeout(() => res.destroy(), 20);
          } else res.end(`${req.headers['transfer-encoding']}:${Buffer.concat(parts).toString()}`);
        });
    });
    const connections = new SlotConnections('127.0.0.1', s.port, 1000);
    const { Readable } = await import('node:stream');
    const upload = { ...get('/'), method: 'POST', body: Readable.from([Buffer.from('one,'), Buffer.from('two')]) };
    expect((await exchange(connections, upload)).body.toString()).toBe('chunked:one,two');
    const broken = await exchange(connections, get('/break'));
    expect([broken.status, broken.body.toString(), broken.error?.code]).toEqual([200, 'partial', 'SLOT_CLOSED']);
    await connections.close();
  });

  test('a refused connection fails with the socket code; the headers timeout names itself', async () => {
    const s = await slot(() => undefined); // never answers
    const silent = new SlotConnections('127.0.0.1', s.port, 1000);
    expect((await exchange(silent, { ...get('/'), headersTimeout: 200 })).error?.code).toBe('SLOT_HEADERS_TIMEOUT');
    await silent.destroy();
    const closed = await new Promise<number>((resolve) => {
      const probe = createTcpServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    expect((await exchange(new SlotConnections('127.0.0.1', closed, 1000), get('/'))).error?.code).toBe('ECONNREFUSED');
  });
});
