import { Client, Connection } from '@temporalio/client';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { parseConfig } from '../../src/config/load.js';

const sha = (token: string) => createHash('sha256').update(token).digest('hex');
const secrets = { ops: 'ops-4Tq9Wm2Z', eu: 'eu-8Lr3Kc7N' };
const environments = `
environments:
  shop-eu:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7998, previewPort: 7997 }]
  shop-us:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7995, previewPort: 7994 }]
`;

// Only routes that answer before reaching Temporal are called: the metrics are about the API, not about Temporal.
function appWith(auth: string) {
  const config = parseConfig(
    `stateDir: ${mkdtempSync(join(tmpdir(), 'cutover-api-metrics-'))}\n${auth}${environments}`,
    '/tmp/cutover-metrics.yaml',
  );
  return createApp(createApiDeps(config, new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) })));
}

const withTokens = appWith(`
auth:
  tokens:
    - { name: ops, sha256: ${sha(secrets.ops)}, roles: [viewer] }
    - { name: eu, sha256: ${sha(secrets.eu)}, roles: [approver], environments: [shop-eu] }
`);

/** The sample of one series, by its labels in the order prom-client writes them. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe("the API's /metrics", () => {
  test('needs a token when auth is on: any role, a token limited to environments too', async () => {
    const refused = await withTokens.request('/metrics');
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="cutover"');
    expect((await withTokens.request('/metrics', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    for (const token of [secrets.ops, secrets.eu]) {
      const res = await withTokens.request('/metrics', { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    }
  });

  test('counts requests by route pattern, method and status class; never the ids asked for', async () => {
    const app = appWith('');
    for (let i = 0; i < 3; i += 1) expect((await app.request('/openapi.json')).status).toBe(200);
    expect((await app.request('/no/such/route')).status).toBe(404);
    expect((await app.request('/v1/deployments/x', { method: 'POST' })).status).toBe(404);
    // A token limited to shop-eu: shop-us answers as missing, and its name is no label.
    const limited = await withTokens.request('/v1/environments/shop-us', { headers: { authorization: `Bearer ${secrets.eu}` } });
    expect(limited.status).toBe(404);
    expect((await withTokens.request('/v1/environments')).status).toBe(401);
    expect((await app.request('/openapi.json', { headers: { host: 'rebound.example' } })).status).toBe(421);

    const text = await (await app.request('/metrics')).text();
    const count = (labels: string) => sample(text, 'cutover_api_requests_total', labels);
    expect(count('route="/openapi.json",method="GET",status_class="2xx"')).toBe(3);
    expect(count('route="/openapi.json",method="GET",status_class="4xx"')).toBe(1);
    expect(count('route="unmatched",method="GET",status_class="4xx"')).toBe(1);
    expect(count('route="unmatched",method="POST",status_class="4xx"')).toBe(1);
    expect(sample(text, 'cutover_api_request_duration_seconds_count', 'route="/openapi.json",method="GET"')).toBe(4);
    expect(text).not.toContain('/no/such/route');

    const guarded = await (await withTokens.request('/metrics', { headers: { authorization: `Bearer ${secrets.ops}` } })).text();
    expect(sample(guarded, 'cutover_api_requests_total', 'route="/v1/environments/:environment",method="GET",status_class="4xx"')).toBe(1);
    expect(sample(guarded, 'cutover_api_requests_total', 'route="/v1/environments",method="GET",status_class="4xx"')).toBe(1);
    expect(guarded).not.toContain('shop-us');
  });
});
