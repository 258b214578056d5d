import { Validator } from '@seriousme/openapi-schema-validator';
import { Client, Connection } from '@temporalio/client';
import { describe, expect, test } from 'vitest';
import { DOCS_PATH, OPENAPI_PATH, createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { parseConfig } from '../../src/config/load.js';

// The document needs no Temporal: a lazy connection that is never used.
const config = parseConfig(
  `
environments:
  shop:
    router: { adminPort: 7999 }
    sites: [{ name: web, role: zdd, publicPort: 7998, previewPort: 7997 }]
`,
  '/tmp/cutover-openapi.yaml',
);
const app = createApp(createApiDeps(config, new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) })));
const documentation = new Set([OPENAPI_PATH, DOCS_PATH]);
const methods = ['get', 'post', 'put', 'patch', 'delete'];

async function document(): Promise<any> {
  const res = await app.request(OPENAPI_PATH);
  expect(res.status).toBe(200);
  return res.json();
}

/** Every route the app answers, as the document spells it: GET /v1/deployments/{id}. */
const appRoutes = () =>
  new Set(
    app.routes
      .filter(
        (r) =>
          r.method !== 'ALL' &&
          !documentation.has(r.path) &&
          !r.path.startsWith(`${DOCS_PATH}/`) &&
          !r.path.startsWith('/slack/') &&
          !r.path.startsWith('/console'),
      )
      .map((r) => `${r.method} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`),
  );

describe('the OpenAPI document', () => {
  test('validates against the OpenAPI 3 schema', async () => {
    const result = await new Validator().validate(await document());
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  test('the validator is not vacuous: a broken document is refused', async () => {
    const broken = await document();
    delete broken.info;
    broken.paths['/health'].get.responses = 'none';
    expect((await new Validator().validate(broken)).valid).toBe(false);
  });

  test('lists every route of the app, and nothing the app does not answer', async () => {
    const doc = await document();
    const documented = new Set(
      Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, ops]) =>
        Object.keys(ops)
          .filter((m) => methods.includes(m))
          .map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    expect([...documented].sort()).toEqual([...appRoutes()].sort());
    expect(documented).toEqual(
      new Set([
        'GET /health',
        'GET /metrics',
        'GET /v1/environments',
        'GET /v1/environments/{environment}',
        'POST /v1/environments/{environment}/deployments',
        'GET /v1/deployments',
        'GET /v1/deployments/{id}',
        'GET /v1/deployments/{id}/log',
        'POST /v1/deployments/{id}/complete',
        'POST /v1/deployments/{id}/reset',
        'POST /v1/packages',
        'GET /v1/packages',
        'GET /v1/packages/{id}',
      ]),
    );
  });

  test('declares the bearer scheme on every /v1 operation and /metrics, with its 401, and the errors each can answer', async () => {
    const doc = await document();
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({ type: 'http', scheme: 'bearer' });
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        expect(op.responses, where).toBeTruthy();
        if (!path.startsWith('/v1/') && path !== '/metrics') {
          expect(op.security, where).toBeUndefined();
          continue;
        }
        expect(op.security, where).toEqual([{ bearerAuth: [] }]);
        expect(op.responses['401'], where).toBeTruthy();
        expect(op.responses['401'].headers['WWW-Authenticate'], where).toBeTruthy();
        expect(op.description, where).toMatch(/Needs a token with/);
        if (path.includes('{')) expect(op.responses['400'], where).toBeTruthy();
        if (op.requestBody?.content?.['application/json'])
          expect(Object.keys(op.responses), where).toEqual(expect.arrayContaining(['400', '415']));
        for (const [status, response] of Object.entries(op.responses as Record<string, any>)) {
          if (Number(status) >= 400)
            expect(response.content['application/json'].schema, `${where} ${status}`).toEqual({ $ref: '#/components/schemas/Error' });
        }
      }
    }
  });

  test('is browsable at /docs, publicly', async () => {
    const res = await app.request(DOCS_PATH);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(await res.text()).toContain(OPENAPI_PATH);
  });

  test('loads its script and stylesheet from the API itself, not from a CDN: it works offline', async () => {
    const html = await (await app.request(DOCS_PATH)).text();
    expect(html).not.toMatch(/https?:|\/\/[a-z]/i);
    const urls = [...html.matchAll(/(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(urls).toHaveLength(2);
    const types: string[] = [];
    for (const url of urls) {
      expect(url).toMatch(new RegExp(`^${DOCS_PATH}/`));
      const res = await app.request(url);
      expect(res.status, url).toBe(200);
      types.push(res.headers.get('content-type') ?? '');
      expect((await res.arrayBuffer()).byteLength, url).toBeGreaterThan(100_000); // the real Swagger UI, not a stub
    }
    expect(types.sort()).toEqual(['text/css; charset=utf-8', 'text/javascript; charset=utf-8']);
  });

  test('serves no other file of the Swagger UI package, nor anything outside it', async () => {
    for (const path of [
      'swagger-ui-dist/package.json',
      'swagger-ui-dist/index.html',
      'swagger-ui-dist/..%2Fpackage.json',
      'swagger-ui-dist/%2E%2E',
    ]) {
      expect((await app.request(`${DOCS_PATH}/${path}`)).status, path).toBe(404);
    }
  });
});
