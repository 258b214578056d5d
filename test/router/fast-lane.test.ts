import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { distinctFreePort, rawExchange, slot, startUpstream, useTestRouter, type Upstream } from './support.js';

/**
 * Plain reads go through the router's fast lane, everything else through Node's http server, on the same connections:
 * what a client sees must not tell them apart. Raw sockets, so framing and order are what is checked.
 */
const router = useTestRouter();
let app: Upstream;
let closing: TcpServer;
let closingPort: number;
let flakyFailures = 0;

beforeAll(async () => {
  app = await startUpstream('app', (req, res) => {
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      if (req.url === '/chunked') {
        res.write('first,');
        return setTimeout(() => res.end('second'), 20);
      }
      if (req.url === '/page')
        return void res.writeHead(200, { 'content-length': '12' }).end(req.method === 'HEAD' ? undefined : 'page content');
      if (req.url === '/not-modified') return void res.writeHead(304, { etag: '"v1"' }).end();
      if (req.url === '/flaky' && flakyFailures > 0) {
        flakyFailures -= 1;
        return void res.socket?.destroy();
      }
      res.end(`${req.method} ${req.url} ${body.length}`);
    });
  });
  // A slot whose answer lasts until it closes the connection (no length, not chunked).
  closingPort = await distinctFreePort();
  closing = createTcpServer((socket) => {
    socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the end'));
  });
  await new Promise<void>((resolve) => closing.listen(closingPort, '127.0.0.1', resolve));
  await router.client().setLive('shop', slot(app));
});

afterAll(async () => {
  await app?.close();
  await new Promise((resolve) => closing?.close(resolve));
});

const publicPort = () => router.env.ports.shop.public;

/** Sends `parts` to the public listener of shop on one connection; all it got until the router closed it. */
const converse = (parts: string[], gapMs = 0) => rawExchange(publicPort(), parts, gapMs);

/** The status lines and bodies of the answers in `text`, in order (bodies framed by Content-Length). */
function answers(text: string): Array<{ status: string; body: string }> {
  const out: Array<{ status: string; body: string }> = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    const head = rest.slice(0, end);
    const length = Number(/^content-length: *(\d+)$/im.exec(head)?.[1] ?? 0);
    out.push({ status: head.split('\r\n')[0]!, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

const get = (path: string, extra = '') => `GET ${path} HTTP/1.1\r\nHost: shop.test\r\n${extra}\r\n`;

describe('the fast lane and Node’s server on one connection', () => {
  test('requests sent ahead in one write are answered in order, each by the slot', async () => {
    const text = await converse([get('/one') + get('/two') + get('/three', 'Connection: close\r\n')]);
    expect(answers(text)).toEqual([
      { status: 'HTTP/1.1 200 OK', body: 'GET /one 0' },
      { status: 'HTTP/1.1 200 OK', body: 'GET /two 0' },
      { status: 'HTTP/1.1 200 OK', body: 'GET /three 0' },
    ]);
  });

  test('a connection goes on from plain reads to a write and back: every answer whole and in order', async () => {
    const post = 'POST /orders HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\n\r\nhello';
    const text = await converse([get('/before'), post, get('/after'), get('/last', 'Connection: close\r\n')], 50);
    expect(answers(text).map((a) => a.body)).toEqual(['GET /before 0', 'POST /orders 5', 'GET /after 0', 'GET /last 0']);
  });

  test('a head cut in two is answered; requests Node must judge get its answer, and reach no slot', async () => {
    const cut = get('/cut', 'Connection: close\r\n');
    expect(answers(await converse([cut.slice(0, 9), cut.slice(9)], 30))).toEqual([{ status: 'HTTP/1.1 200 OK', body: 'GET /cut 0' }]);
    const before = app.arrivals.length;
    const noHost = 'GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n';
    const bareLineFeeds = 'GET /x HTTP/1.1\nHost: a.test\n\n';
    const framedTwice = 'GET /x HTTP/1.1\r\nHost: a.test\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n';
    const folded = 'GET /x HTTP/1.1\r\nHost: a.test\r\nX-Long: one\r\n two\r\n\r\n';
    for (const odd of [noHost, bareLineFeeds, framedTwice, folded])
      expect(await converse([odd])).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(app.arrivals.length).toBe(before);
  });

  test('bodies of every framing reach the client whole; HEAD and 304 come without one', async () => {
    const chunked = await converse([get('/chunked', 'Connection: close\r\n')]);
    expect(chunked).toMatch(/\r\ntransfer-encoding: chunked\r\n/i);
    expect(chunked.slice(chunked.indexOf('\r\n\r\n') + 4)).toBe('6\r\nfirst,\r\n6\r\nsecond\r\n0\r\n\r\n');

    // The answer to HEAD names the length of the body it does not carry: the next answer follows its head at once.
    const head = await converse([`HEAD /page HTTP/1.1\r\nHost: shop.test\r\n\r\n` + get('/after-head', 'Connection: close\r\n')]);
    expect(head).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*content-length: 12\r\n[^]*?\r\n\r\nHTTP\/1\.1 200 OK\r\n/i);
    expect(head.endsWith('GET /after-head 0')).toBe(true);
    const notModified = await converse([get('/not-modified') + get('/after-304', 'Connection: close\r\n')]);
    expect(answers(notModified).map((a) => a.status)).toEqual(['HTTP/1.1 304 Not Modified', 'HTTP/1.1 200 OK']);
    expect(answers(notModified)[1]!.body).toBe('GET /after-304 0');

    await router.client().setPreview('shop', { kind: 'slot', slotId: 'closing', port: closingPort });
    const untilClosed = await new Promise<{ status: number; body: string; framing: string | undefined }>((resolve, reject) => {
      httpRequest(`http://127.0.0.1:${router.env.ports.shop.preview}/`, (res) => {
        let body = '';
        res.setEncoding('latin1').on('data', (text: string) => (body += text));
        res.on('end', () => resolve({ status: res.statusCode!, body, framing: res.headers['transfer-encoding'] }));
      })
        .on('error', reject)
        .end();
    });
    expect(untilClosed).toEqual({ status: 200, body: 'until the end', framing: 'chunked' });
  });

  test('a slot that drops a read before answering: the read is sent once more and answered', async () => {
    flakyFailures = 1;
    expect(answers(await converse([get('/flaky', 'Connection: close\r\n')]))).toEqual([
      { status: 'HTTP/1.1 200 OK', body: 'GET /flaky 0' },
    ]);
    flakyFailures = 2;
    expect(await converse([get('/flaky', 'Connection: close\r\n')])).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n/);
    flakyFailures = 0;
  });
});
