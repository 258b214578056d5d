import { Client, Connection } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test, vi } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createTokenVerifier, hashToken } from '../../src/api/auth.js';
import { createApiDeps } from '../../src/api/deps.js';
import { parseConfig } from '../../src/config/load.js';

const sha = (token: string) => createHash('sha256').update(token).digest('hex');
const secrets = { ops: 'ops-7Yk2V9sQ', ci: 'ci-Qm4tX8pL', eu: 'eu-Hd3nW6rZ' };

// Only routes that need no Temporal are called here; the Temporal ones are in routes.test.ts.
const config = parseConfig(
  `
stateDir: ${mkdtempSync(join(tmpdir(), 'cutover-auth-'))}
auth:
  tokens:
    - { name: ops, sha256: ${sha(secrets.ops)}, roles: [viewer] }
    - { name: ci, sha256: ${sha(secrets.ci)}, roles: [deployer] }
    - { name: eu, sha256: ${sha(secrets.eu)}, roles: [viewer, approver], environments: [shop-eu] }
environments:
  shop-eu:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7998, previewPort: 7997 }]
  shop-us:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7995, previewPort: 7994 }]
`,
  '/tmp/cutover-auth.yaml',
);
const deps = createApiDeps(config, new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }));
// No Temporal here: health says it is fine, and listing deployments fails unexpectedly (a 500 that is logged).
deps.probes.temporal = async () => {};
deps.deployments = { ...deps.deployments, list: async () => Promise.reject(new Error('visibility is down')) };
const app = createApp(deps);
const get = (path: string, authorization?: string) => app.request(path, { headers: authorization === undefined ? {} : { authorization } });

afterEach(() => vi.restoreAllMocks());

describe('bearer tokens', () => {
  test('the verifier finds the token whose sha256 is configured, and only that one', () => {
    const verify = createTokenVerifier(config.auth!.tokens);
    expect(verify(secrets.ci)).toEqual({ name: 'ci', roles: ['deployer'], environments: undefined });
    expect(verify(secrets.eu)?.environments).toEqual(['shop-eu']);
    expect(verify(`${secrets.ci} `)).toBeNull();
    expect(verify(sha(secrets.ci))).toBeNull(); // the digest itself is no token
    expect(verify('')).toBeNull();
    expect(hashToken(secrets.ops).toString('hex')).toBe(sha(secrets.ops));
  });

  test('no token: 401 with WWW-Authenticate: Bearer, in the one error shape', async () => {
    const res = await get('/v1/environments');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="cutover"');
    expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: expect.stringContaining('Authorization: Bearer') } });
  });

  test.each([
    ['an unknown token', `Bearer nope-${secrets.ops}`],
    ['another scheme', `Basic ${Buffer.from(`ops:${secrets.ops}`).toString('base64')}`],
    ['a bare token', secrets.ops],
    ['an empty bearer', 'Bearer '],
    ['a token too long to be one', `Bearer ${'x'.repeat(5000)}`],
  ])('%s: 401 invalid_token, and the token is not echoed', async (_, authorization) => {
    const res = await get('/v1/environments', authorization);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="cutover", error="invalid_token"');
    const text = await res.text();
    expect(text).not.toContain(secrets.ops);
    if (authorization.length > 7) expect(text).not.toContain(authorization.slice(7, 20));
  });

  test('the scheme is case-insensitive', async () => {
    expect((await get('/v1/environments', `bearer ${secrets.ops}`)).status).toBe(200);
  });

  test('a token limited to environments sees only them; the others answer as if they did not exist', async () => {
    const all: any = await (await get('/v1/environments', `Bearer ${secrets.ops}`)).json();
    expect(all.environments.map((e: any) => e.name)).toEqual(['shop-eu', 'shop-us']);
    const limited: any = await (await get('/v1/environments', `Bearer ${secrets.eu}`)).json();
    expect(limited.environments.map((e: any) => e.name)).toEqual(['shop-eu']);
    const elsewhere = await get('/v1/environments/shop-us', `Bearer ${secrets.eu}`);
    const nowhere = await get('/v1/environments/shop-xx', `Bearer ${secrets.eu}`);
    expect([elsewhere.status, nowhere.status]).toEqual([404, 404]);
    expect(await elsewhere.json()).toEqual({ error: { code: 'not-found', message: 'no environment named shop-us' } });
    expect(await nowhere.json()).toEqual({ error: { code: 'not-found', message: 'no environment named shop-xx' } });
    expect((await get('/v1/deployments?environment=shop-us', `Bearer ${secrets.eu}`)).status).toBe(404);
    // Packages are every environment's: their list is not for a limited token.
    expect((await get('/v1/packages', `Bearer ${secrets.eu}`)).status).toBe(403);
    expect((await get('/v1/packages', `Bearer ${secrets.ops}`)).status).toBe(200);
  });

  test('a role that does not grant the action: 403 naming the role needed, before the request is even validated', async () => {
    const res = await app.request('/v1/packages', {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.ops}`, 'content-type': 'text/plain' },
      body: 'x',
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as any).error.message).toBe('token ops may not upload packages: it needs the role deployer');
    const start = await app.request('/v1/environments/shop-eu/deployments', {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.eu}` },
    });
    expect(start.status).toBe(403);
    const complete = await app.request('/v1/deployments/shop-eu-20260101-000000-abcd/complete', {
      method: 'POST',
      headers: { authorization: `Bearer ${secrets.ci}` },
    });
    expect(complete.status).toBe(403);
    expect(((await complete.json()) as any).error.message).toMatch(/needs the role approver/);
  });

  test('public routes need no token, and /health says auth is enabled', async () => {
    expect((await get('/openapi.json')).status).toBe(200);
    expect((await get('/docs')).status).toBe(200);
    const health: any = await (await get('/health')).json();
    expect(health.auth).toBe('enabled');
  });

  test('tokens never reach the logs, even when a request fails unexpectedly', async () => {
    const logged: string[] = [];
    for (const method of ['log', 'error', 'warn', 'info', 'debug'] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(' ')));
    }
    const res = await get('/v1/deployments', `Bearer ${secrets.ops}`);
    expect(res.status).toBe(500);
    await get('/v1/environments', `Bearer wrong-${secrets.ci}`);
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toMatch(new RegExp(`${secrets.ops}|${secrets.ci}`));
  });
});
