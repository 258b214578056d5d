/**
 * Thousands of malformed requests: bodies, paths, query strings, tokens and uploads. The API never answers
 * a 5xx, always answers in its one error shape, and changes nothing: no deployment starts, no package is stored.
 * Runs against the real Temporal server; no worker is needed since nothing may start.
 */
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import fc from 'fast-check';

// A fixed seed: every run sends the same thousands of requests, so the coverage checks below are repeatable.
fc.configureGlobal({ ...fc.readConfigureGlobal(), seed: 20261122 });
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { parseConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';
import { environmentWorkflowId, modes } from '../../src/workflows/definitions.js';

const environment = `fz${randomBytes(3).toString('hex')}`;
const tokens = { admin: randomBytes(16).toString('hex'), viewer: randomBytes(16).toString('hex') };
const configDir = mkdtempSync(join(tmpdir(), 'cutover-fuzz-config-'));
const stateDir = mkdtempSync(join(tmpdir(), 'cutover-fuzz-state-'));
const uploadDir = mkdtempSync(join(tmpdir(), 'cutover-fuzz-uploads-'));
const sha = (token: string) => createHash('sha256').update(token).digest('hex');

let connection: Connection;
let client: Client;
let app: ReturnType<typeof createApp>;

beforeAll(async () => {
  const [admin, site, preview] = await Promise.all([freePort(), freePort(), freePort()]);
  const file = join(configDir, 'cutover.yaml');
  writeFileSync(
    file,
    `
stateDir: ${stateDir}
temporal: { address: "${inject('temporalAddress')}", taskQueue: cutover-${environment} }
auth:
  tokens:
    - { name: admin, sha256: ${sha(tokens.admin)}, roles: [viewer, deployer, approver] }
    - { name: viewer, sha256: ${sha(tokens.viewer)}, roles: [viewer] }
environments:
  ${environment}:
    router: { adminPort: ${admin} }
    sites: [{ name: web, role: zdd, publicPort: ${site}, previewPort: ${preview} }]
`,
  );
  const config = parseConfig(readFileSync(file, 'utf8'), file);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  app = createApp(createApiDeps(config, client, {}, { maxUploadBytes: 32 * 1024, uploadDir }));
});
afterAll(async () => {
  await connection?.close();
});

/** Nothing changed: no environment workflow (every start goes through it), no deployment listed, no package stored, no upload left behind. */
async function assertNothingChanged() {
  await expect(client.workflow.getHandle(environmentWorkflowId(environment)).describe()).rejects.toBeInstanceOf(WorkflowNotFoundError);
  const listed: string[] = [];
  for await (const wf of client.workflow.list({ query: `CutoverEnvironment = "${environment}"` })) listed.push(wf.workflowId);
  expect(listed).toEqual([]);
  const store = join(stateDir, 'packages', 'sha256');
  expect(existsSync(store) ? readdirSync(store) : []).toEqual([]);
  expect(readdirSync(uploadDir)).toEqual([]);
}

async function expectSane(res: Response, what: string) {
  const text = await res.text();
  expect(res.status, `${what} → ${res.status} ${text}`).toBeLessThan(500);
  if (res.status >= 400 && !what.startsWith('HEAD ')) {
    const body = JSON.parse(text);
    expect(typeof body.error.code, what).toBe('string');
    expect(typeof body.error.message, what).toBe('string');
    for (const f of body.error.fields ?? []) expect(f.field, what).toMatch(/^(body|path|query|header)\b/);
  }
  return res.status;
}

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant(`Bearer ${tokens.admin}`) },
  fc.constant(`Bearer ${tokens.viewer}`),
  fc.constant(undefined),
  fc.string().map((s) => `Bearer ${s}`),
  fc.string(),
);

/** A package that cannot exist: a valid one would be a valid request. */
const absentPackage = fc
  .oneof(fc.string(), fc.stringMatching(/^sha256:[0-9a-f]{0,70}$/), fc.stringMatching(/^[./a-z0-9-]{1,30}$/))
  .filter((s) => !existsSync(isAbsolute(s) ? s : resolve(configDir, s)));

const value = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 2 }),
  fc.object({ maxDepth: 1 }),
);
const startBody = fc.record(
  {
    package: fc.oneof(absentPackage, value),
    mode: fc.oneof(fc.constantFrom(...modes), value),
    requestedBy: fc.oneof(fc.string({ maxLength: 300 }), value),
  },
  { requiredKeys: [] },
);
const decisionBody = fc.record(
  { rollbackDatabase: fc.oneof(fc.boolean(), value), requestedBy: fc.oneof(fc.string({ maxLength: 300 }), value), reason: value },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 4, arbitrary: startBody.map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: decisionBody.map((b) => JSON.stringify(b)) },
  // Well-formed, aimed at deployments that do not exist: these reach Temporal.
  { weight: 2, arbitrary: fc.constantFrom('{}', '{"rollbackDatabase":true}', '{"rollbackDatabase":false,"requestedBy":"x"}') },
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.string(),
  fc.constant(''),
);

const deploymentId = fc.oneof(
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/),
  fc.constant(`${environment}-20260101-000000-abcd`),
  fc.string().map(encodeURIComponent),
);
const environmentName = fc.oneof(
  fc.constant(environment),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/),
  fc.string().map(encodeURIComponent),
);
const contentType = fc.oneof(
  { weight: 6, arbitrary: fc.constant('application/json') },
  fc.constant('text/plain'),
  fc.constant(undefined),
  fc.constant('application/x-www-form-urlencoded'),
  fc.string(),
);

describe('malformed requests', () => {
  test('bodies: never a 5xx, never a state change', async () => {
    await assertNothingChanged();
    const statuses = new Map<number, number>();
    let reachedTemporal = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          environmentName.map((e) => `/v1/environments/${e}/deployments`),
          deploymentId.map((id) => `/v1/deployments/${id}/complete`),
          deploymentId.map((id) => `/v1/deployments/${id}/reset`),
        ),
        body,
        contentType,
        authorization,
        async (path, payload, type, auth) => {
          const headers: Record<string, string> = {};
          if (type !== undefined) headers['content-type'] = type;
          if (auth !== undefined) headers.authorization = auth;
          let res: Response;
          try {
            res = await app.request(path, { method: 'POST', headers, body: payload });
          } catch {
            return; // the test's own Request refused the header (not a valid header value): nothing reached the API
          }
          const status = await expectSane(res.clone(), `POST ${path} ${type} ${payload}`);
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 404 && /no deployment with id/.test(await res.text())) reachedTemporal += 1;
        },
      ),
      { numRuns: 1500 },
    );
    // The inputs reached past auth and validation, into the handlers.
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([400, 401, 403, 404, 415, 422]));
    expect(reachedTemporal).toBeGreaterThan(10);
    await assertNothingChanged();
  });

  test('paths, methods and query strings: never a 5xx, never a state change', async () => {
    const segment = fc.oneof(
      fc.constantFrom(
        'v1',
        'deployments',
        'environments',
        'packages',
        'log',
        'complete',
        'reset',
        environment,
        '..',
        '.',
        '%2F',
        '%00',
        '',
        'health',
        'openapi.json',
        'docs',
      ),
      fc.string().map(encodeURIComponent),
    );
    const query = fc.dictionary(
      fc.constantFrom('environment', 'phase', 'mode', 'version', 'pageSize', 'pageToken', 'follow', 'after', 'x'),
      fc.oneof(fc.string(), fc.constantFrom(environment, 'awaiting-verification', 'true', '1', '0', '-1', '1e3')),
      { maxKeys: 4 },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS'),
        fc.array(segment, { minLength: 1, maxLength: 5 }),
        query,
        authorization,
        async (method, segments, q, auth) => {
          // follow=true on a real deployment would stream; there is none, so every follow is a 404 or earlier.
          const path = `/${segments.join('/')}?${new URLSearchParams(q)}`;
          let res: Response;
          try {
            res = await app.request(path, { method, headers: auth === undefined ? {} : { authorization: auth } });
          } catch {
            return;
          }
          await expectSane(res, `${method} ${path}`);
        },
      ),
      { numRuns: 1500 },
    );
    await assertNothingChanged();
  });

  test('uploads: random bytes, random gzip, random tar-looking archives are refused and nothing is stored', async () => {
    const bytes = fc.uint8Array({ maxLength: 4096 });
    const upload = fc.oneof(
      bytes,
      bytes.map((b) => new Uint8Array(gzipSync(b))),
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 100 }), bytes)
        .map(
          ([name, content]) =>
            new Uint8Array(gzipSync(Buffer.concat([tarHeader(name, content.length), Buffer.from(content), Buffer.alloc(1024)]))),
        ),
      fc.integer({ min: 33, max: 40 }).map((kb) => new Uint8Array(Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(kb * 1024)]))),
    );
    await fc.assert(
      fc.asyncProperty(
        upload,
        fc.constantFrom('application/gzip', 'application/octet-stream', 'application/json', 'text/plain'),
        async (payload, type) => {
          const res = await app.request('/v1/packages', {
            method: 'POST',
            headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': type },
            body: payload,
          });
          const status = await expectSane(res, `upload of ${payload.length} bytes as ${type}`);
          expect([413, 415, 422]).toContain(status);
        },
      ),
      { numRuns: 300 },
    );
    await assertNothingChanged();
  });
});

/** A ustar header for one file, checksummed, with whatever name fast-check chose. */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  header.write(name.slice(0, 99), 0, 'utf8');
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write('0', 156);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return header;
}
