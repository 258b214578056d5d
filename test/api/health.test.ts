import { Client, Connection } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import pg from 'pg';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { parseConfig } from '../../src/config/load.js';
import { startPostgresCluster, type PostgresCluster } from '../../src/devtools/postgres-cluster.js';
import { freePort } from '../../src/process/free-port.js';

let cluster: PostgresCluster;
let connection: Connection;

const configFor = (temporalAddress: string, token?: string) =>
  parseConfig(
    `
temporal: { address: "${temporalAddress}" }
${token ? `auth: { tokens: [{ name: viewer, sha256: ${createHash('sha256').update(token).digest('hex')}, roles: [viewer] }] }` : ''}
environments:
  shop:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7998, previewPort: 7997 }]
    databases:
      - { name: orders, engine: postgres, connectionEnv: SHOP_ORDERS_URL }
`,
    '/tmp/cutover-health.yaml',
  );

beforeAll(async () => {
  // A cluster of its own, so the test can stop it.
  cluster = await startPostgresCluster();
  const admin = new pg.Client({ connectionString: cluster.adminUrl });
  await admin.connect();
  await admin.query('create database orders');
  await admin.query("create role shop login password 's3cret-pw'");
  await admin.end();
  connection = await Connection.connect({ address: inject('temporalAddress') });
});
afterAll(async () => {
  await connection?.close();
  await cluster?.stop();
});

describe('GET /health', () => {
  const url = () => cluster.urlFor('orders').replace('postgres@', 'shop:s3cret-pw@');

  test('reports Temporal and every database reachable', async () => {
    const app = createApp(createApiDeps(configFor(inject('temporalAddress')), new Client({ connection }), { SHOP_ORDERS_URL: url() }));
    const res = await app.request('/health');
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({
      status: 'ok',
      auth: 'disabled',
      temporal: { ok: true, address: inject('temporalAddress') },
      databases: [{ environment: 'shop', database: 'orders', engine: 'postgres', ok: true }],
      checkedAt: expect.any(String),
    });
  });

  test('with auth: without a token only the verdict; the details for a token of any role', async () => {
    const token = 'health-viewer-token';
    const config = configFor(inject('temporalAddress'), token);
    const app = createApp(createApiDeps(config, new Client({ connection }), { SHOP_ORDERS_URL: url() }));
    const open = await app.request('/health');
    expect(open.status).toBe(200);
    const text = await open.text();
    expect(JSON.parse(text)).toEqual({ status: 'ok', auth: 'enabled' });
    for (const secretish of ['shop', 'orders', 'postgres', inject('temporalAddress')]) expect(text).not.toContain(secretish);
    const detailed: any = await (await app.request('/health', { headers: { authorization: `Bearer ${token}` } })).json();
    expect(detailed).toMatchObject({ temporal: { ok: true }, databases: [{ environment: 'shop', database: 'orders', ok: true }] });
    expect((await app.request('/health', { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
  });

  test('a burst of calls probes each database once: results are reused for a few seconds', async () => {
    const client = new Client({ connection });
    const deps = createApiDeps(configFor(inject('temporalAddress')), client, { SHOP_ORDERS_URL: url() }, { healthCacheMs: 1500 });
    let opened = 0;
    const ping = deps.probes.database;
    deps.probes.database = (db) => {
      opened++;
      return ping(db);
    };
    const app = createApp(deps);
    const burst = await Promise.all(Array.from({ length: 5 }, () => app.request('/health')));
    expect(burst.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect((await app.request('/health')).status).toBe(200);
    expect(opened).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1600));
    await app.request('/health');
    expect(opened).toBe(2);
  });

  test('an unset connection variable is named, never guessed', async () => {
    const app = createApp(createApiDeps(configFor(inject('temporalAddress')), new Client({ connection }), {}));
    const res = await app.request('/health');
    expect(res.status).toBe(503);
    const body: any = await res.json();
    expect(body.databases[0]).toMatchObject({ ok: false, error: expect.stringContaining('SHOP_ORDERS_URL') });
  });

  test('Temporal down: 503 with the reason', async () => {
    const deadAddress = `127.0.0.1:${await freePort()}`;
    const dead = Connection.lazy({ address: deadAddress, connectTimeout: '1s' });
    const app = createApp(createApiDeps(configFor(deadAddress), new Client({ connection: dead }), { SHOP_ORDERS_URL: url() }));
    const res = await app.request('/health');
    expect(res.status).toBe(503);
    const body: any = await res.json();
    expect(body.status).toBe('degraded');
    expect(body.temporal.ok).toBe(false);
    expect(body.temporal.error).toBeTruthy();
    expect(body.databases[0].ok).toBe(true);
  });

  test('database down: 503 naming the database and the reason, without the password', async () => {
    await cluster.stop();
    const app = createApp(createApiDeps(configFor(inject('temporalAddress')), new Client({ connection }), { SHOP_ORDERS_URL: url() }));
    const res = await app.request('/health');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain('s3cret-pw');
    const body = JSON.parse(text);
    expect(body.temporal.ok).toBe(true);
    expect(body.databases[0]).toMatchObject({ environment: 'shop', database: 'orders', ok: false });
    expect(body.databases[0].error).toMatch(/ECONNREFUSED|connect|refused/i);
  });
});
