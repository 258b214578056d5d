/**
 * Who can reach the API: never beyond loopback without tokens, and only by one of its own names (a DNS
 * rebinding page in a browser sends another Host). Real servers and real HTTP; Temporal is not needed.
 */
import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { startApi } from '../../src/api/main.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';

// No retry interceptor: a call to this dead address fails at once, leaving no retry timer to fire after close().
const connection = Connection.lazy({ address: '127.0.0.1:1', interceptors: [] });
afterAll(async () => {
  await connection.close();
});

const configWith = (api: string, auth = '') =>
  parseConfig(
    `
api: ${api}
${auth}
environments:
  shop:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7998, previewPort: 7997 }]
`,
    '/etc/cutover/cutover.yaml',
  );
const tokenAuth = `auth: { tokens: [{ name: ops, sha256: ${createHash('sha256').update('ops-token').digest('hex')}, roles: [approver] }] }`;

/** A raw HTTP request, so the Host header is exactly what a browser would send. */
function send(port: number, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
    });
    req.on('error', reject);
    req.end(method === 'POST' ? '{}' : undefined);
  });
}

describe('where the API listens', () => {
  const beyondLoopback = ['0.0.0.0', '::', '192.0.2.10', 'cutover.example.com'];
  test.each(beyondLoopback)('api.host %s without an auth section: refused at start, naming api.host and auth', async (host) => {
    const config = configWith(`{ host: "${host}" }`);
    const started = startApi(config, { port: 0 });
    await expect(started).rejects.toBeInstanceOf(ConfigError);
    const escaped = host.replace(/\./g, '\\.');
    const named = `/etc/cutover/cutover.yaml: api.host: is ${escaped}, not a loopback address, and there is no auth section: .*auth`;
    await expect(started).rejects.toThrow(new RegExp(named));
  });

  test.each(['127.0.0.1', 'localhost'])('api.host %s without auth: starts, on loopback only', async (host) => {
    const api = await startApi(configWith(`{ host: ${host} }`), { port: 0 });
    await api.close();
  });
});

describe('the Host header', () => {
  const served: Array<{ close(): void }> = [];
  afterAll(() => served.forEach((s) => s.close()));

  async function serveOpenApi(api = '{ host: 127.0.0.1 }', auth = '') {
    // Temporal at a closed port: a request that got past the Host check would answer 503, not 421.
    const app = createApp(createApiDeps(configWith(api, auth), new Client({ connection }), {}));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
    });
    served.push(server);
    return { app, port: (server.address() as AddressInfo).port };
  }

  test('a Complete addressed to another host (DNS rebinding) is refused with 421 before anything else', async () => {
    const { port } = await serveOpenApi();
    const headers = { host: 'evil.example', 'content-type': 'application/json' };
    const rebound = await send(port, 'POST', '/v1/deployments/shop-20260101-000000-abcd/complete', headers);
    expect(rebound.status).toBe(421);
    expect(rebound.body.error.code).toBe('host-not-allowed');
    expect(JSON.stringify(rebound.body)).not.toContain('evil.example');
    expect((await send(port, 'GET', '/health', { host: `evil.example:${port}` })).status).toBe(421);
    expect((await send(port, 'GET', '/health', { host: `127.0.0.1.evil.example` })).status).toBe(421);
  });

  test.each(['127.0.0.1', 'localhost', '[::1]', 'LOCALHOST'])("loopback names are the API's own: Host %s", async (host) => {
    const { port } = await serveOpenApi();
    const r = await send(port, 'GET', '/v1/environments', { host: `${host}:${port}` });
    expect(r.status).toBe(200);
    expect(r.body.environments.map((e: { name: string }) => e.name)).toEqual(['shop']);
  });

  test('api.allowedHosts and api.host (unless a wildcard) are its names too', async () => {
    const { port } = await serveOpenApi('{ host: 127.0.0.1, allowedHosts: [cutover.internal] }');
    expect((await send(port, 'GET', '/v1/environments', { host: `cutover.internal:${port}` })).status).toBe(200);
    expect((await send(port, 'GET', '/v1/environments', { host: `other.internal:${port}` })).status).toBe(421);
    const { app } = await serveOpenApi('{ host: 192.0.2.10 }', tokenAuth);
    expect((await app.request('/health', { headers: { host: '192.0.2.10:7300' } })).status).not.toBe(421);
    const wildcard = await serveOpenApi('{ host: 0.0.0.0 }', tokenAuth);
    expect((await wildcard.app.request('/health', { headers: { host: '0.0.0.0:7300' } })).status).toBe(421);
  });

  test('api.allowedHosts must be host names without ports', () => {
    const withPort = () => configWith('{ allowedHosts: ["cutover.internal:7300"] }');
    expect(withPort).toThrow(/api\.allowedHosts\[0\]: must be a host name or IP address, without a port/);
  });
});
