/** Test hosts (network namespaces) behave like separate machines: reachable both ways, cut off and back, and gone after close. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { readProcessStat } from '../../src/platform/agent/proc.js';
import { cleanupStaleHosts, createHosts, linkNames, namespaceNames, testHostsUnavailable, type TestHost, type TestHosts } from './netns.js';

const unavailable = await testHostsUnavailable();
/** How long a request to a cut-off host may take before the test calls it failed. */
const CUT_TIMEOUT_MS = 1500;
const HOST_PORT = 8080;

/** A server inside a host that answers its name on <host address>:8080. */
const nameServer = `
const server = require('node:http').createServer((req, res) => res.end(process.env.HOST_NAME));
server.listen(${HOST_PORT}, process.env.HOST_ADDRESS, () => console.log('listening'));
`;
/** Prints what a GET of argv[1] answers, or ERR <code> when it fails. */
const fetchOnce = `
fetch(process.argv[1], { signal: AbortSignal.timeout(${CUT_TIMEOUT_MS}) }).then(
  async (r) => console.log(await r.text()),
  (e) => console.log('ERR ' + (e.cause?.code ?? e.name)),
);
`;

if (unavailable) {
  describe.skip(`SKIPPED: ${unavailable}`, () => test('test hosts', () => undefined));
} else {
  describe('test hosts', () => {
    let testHosts: TestHosts;
    let hosts: TestHost[];
    const servers: ChildProcess[] = [];
    let rootServer: Server;
    let rootUrl: string;
    let loopbackServer: Server;
    const seenFrom: string[] = [];

    beforeAll(async () => {
      testHosts = await createHosts(3);
      hosts = testHosts.hosts;
      for (const host of hosts) {
        const child = host.exec(process.execPath, ['-e', nameServer], {
          env: { ...process.env, HOST_NAME: host.name, HOST_ADDRESS: host.address },
          stdio: ['ignore', 'pipe', 'inherit'],
        });
        servers.push(child);
        await firstLine(child);
      }
      rootServer = createServer((req, res) => {
        seenFrom.push(req.socket.remoteAddress ?? '');
        res.end('root');
      });
      await new Promise<void>((resolve) => rootServer.listen(0, testHosts.rootAddress, resolve));
      rootUrl = `http://${testHosts.rootAddress}:${(rootServer.address() as AddressInfo).port}/`;
      loopbackServer = createServer((_req, res) => res.end('loopback'));
      await new Promise<void>((resolve) => loopbackServer.listen(0, '127.0.0.1', resolve));
    });

    afterAll(async () => {
      await testHosts?.close();
      rootServer?.close();
      loopbackServer?.close();
    });

    test('each host has its own address on a private /24 and a unique namespace', () => {
      expect(hosts.map((h) => h.name)).toEqual(['h1', 'h2', 'h3']);
      expect(new Set(hosts.map((h) => h.namespace)).size).toBe(3);
      for (const host of hosts) expect(host.namespace).toMatch(/^cutover-t[0-9a-f]{3}-h\d$/);
      const prefix = testHosts.rootAddress.replace(/\.1$/, '');
      expect(testHosts.subnet).toBe(`${prefix}.0/24`);
      expect(hosts.map((h) => h.address)).toEqual([`${prefix}.11`, `${prefix}.12`, `${prefix}.13`]);
    });

    test('the root namespace reaches a server inside each host on its address', async () => {
      for (const host of hosts) expect(await get(`http://${host.address}:${HOST_PORT}/`)).toBe(host.name);
    });

    test('each host reaches a server bound on the root-side address, from its own address', async () => {
      seenFrom.length = 0;
      for (const host of hosts) expect(await fetchFrom(host, rootUrl)).toBe('root');
      expect(seenFrom).toEqual(hosts.map((h) => h.address));
    });

    test("a host's loopback is its own: the root namespace's loopback servers are not reachable from it", async () => {
      const url = `http://127.0.0.1:${(loopbackServer.address() as AddressInfo).port}/`;
      expect(await get(url)).toBe('loopback');
      expect(await fetchFrom(hosts[0]!, url)).toBe('ERR ECONNREFUSED');
    });

    test('a cut host is unreachable both ways, its open connections stall, and it is reachable again after restore', async () => {
      const [h1, h2, h3] = hosts as [TestHost, TestHost, TestHost];
      const open = await openConnection(h2.address, HOST_PORT);
      expect(await open.request()).toContain(h2.name);

      await h2.cut();
      await expect(get(`http://${h2.address}:${HOST_PORT}/`)).rejects.toThrow();
      expect(await open.request()).toBe('no answer');
      expect(await fetchFrom(h2, rootUrl)).toMatch(/^ERR /);
      // The others are not affected.
      expect(await get(`http://${h1.address}:${HOST_PORT}/`)).toBe(h1.name);
      expect(await get(`http://${h3.address}:${HOST_PORT}/`)).toBe(h3.name);
      open.destroy();

      await h2.restore();
      expect(await eventually(() => get(`http://${h2.address}:${HOST_PORT}/`))).toBe(h2.name);
      expect(await fetchFrom(h2, rootUrl)).toBe('root');
    });

    test('close() kills what ran in the hosts and leaves no namespace, link or bridge', async () => {
      const names = [...hosts.map((h) => h.namespace)];
      const links = [testHosts.bridge, ...hosts.map((h) => h.link)];
      expect(await namespaceNames()).toEqual(expect.arrayContaining(names));
      expect(await linkNames()).toEqual(expect.arrayContaining(links));
      await testHosts.close();
      expect((await namespaceNames()).filter((n) => names.includes(n))).toEqual([]);
      expect((await linkNames()).filter((l) => links.includes(l))).toEqual([]);
      for (const child of servers) expect(await alive(child.pid!)).toBe(false);
    });
  });

  describe('stale test hosts', () => {
    test('cleanupStaleHosts removes what a killed run left: namespaces, links, bridge and processes', async () => {
      // A run that makes two hosts, starts a process in one, and is then SIGKILLed: nothing of it cleans up.
      const netns = fileURLToPath(new URL('./netns.ts', import.meta.url));
      const script = `
        const { createHosts } = await import(${JSON.stringify(netns)});
        const t = await createHosts(2);
        const sleeper = t.hosts[0].exec('sleep', ['600'], { stdio: 'ignore' });
        const links = [t.bridge, ...t.hosts.map((h) => h.link)];
        console.log(JSON.stringify({ namespaces: t.hosts.map((h) => h.namespace), links, sleeper: sleeper.pid }));
        setInterval(() => undefined, 1e6);
      `;
      const crashed = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      const left = JSON.parse(await firstLine(crashed)) as { namespaces: string[]; links: string[]; sleeper: number };
      const exited = new Promise((r) => crashed.once('exit', r));
      crashed.kill('SIGKILL');
      await exited;
      expect(await namespaceNames()).toEqual(expect.arrayContaining(left.namespaces));
      expect(await alive(left.sleeper)).toBe(true);

      const removed = await cleanupStaleHosts();
      expect(removed.namespaces).toEqual(expect.arrayContaining(left.namespaces));
      expect((await namespaceNames()).filter((n) => left.namespaces.includes(n))).toEqual([]);
      expect((await linkNames()).filter((l) => left.links.includes(l))).toEqual([]);
      expect(await alive(left.sleeper)).toBe(false);
    });

    test('cleanupStaleHosts leaves a live run alone', async () => {
      const live = await createHosts(1);
      try {
        await cleanupStaleHosts();
        expect(await namespaceNames()).toContain(live.hosts[0]!.namespace);
        expect(await linkNames()).toEqual(expect.arrayContaining([live.bridge, live.hosts[0]!.link]));
      } finally {
        await live.close();
      }
    });
  });
}

async function get(url: string): Promise<string> {
  const response = await fetch(url, { signal: AbortSignal.timeout(CUT_TIMEOUT_MS) });
  return response.text();
}

/** Runs a GET from inside a host; its answer or ERR <code>. */
async function fetchFrom(host: TestHost, url: string): Promise<string> {
  const child = host.exec(process.execPath, ['-e', fetchOnce, url], { stdio: ['ignore', 'pipe', 'inherit'] });
  return (await firstLine(child)).trim();
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const end = text.indexOf('\n');
      if (end >= 0) resolve(text.slice(0, end));
    });
    child.once('exit', (code, signal) => reject(new Error(`exited (${signal ?? code}) before printing a line: ${text}`)));
  });
}

/** One kept-alive TCP connection; each request answers its response text, or 'no answer' after the cut timeout. */
async function openConnection(host: string, port: number) {
  const socket = connect(port, host);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  return {
    request: () =>
      new Promise<string>((resolve) => {
        const timer = setTimeout(() => {
          socket.off('data', onData);
          resolve('no answer');
        }, CUT_TIMEOUT_MS);
        const onData = (chunk: Buffer) => {
          clearTimeout(timer);
          resolve(chunk.toString());
        };
        socket.once('data', onData);
        socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\n\r\n`);
      }),
    destroy: () => socket.destroy(),
  };
}

/** Retries for a while: a restored link may need a new ARP exchange first. */
async function eventually<T>(fn: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (error) {
      if (i >= attempts) throw error;
    }
  }
}

/** A zombie (killed, not yet reaped by its parent) counts as dead. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X';
}
