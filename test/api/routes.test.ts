/**
 * Every route of the API through app.request(), on a whole Cutover with auth enabled: success, 400 naming
 * the field, 401, 403, 404 and 409 where a route can answer them. Three deployments share one stack.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { readEvents, type ServerSentEvent } from '../../src/cli/sse.js';
import { packDirectory } from '../../src/packages/pack.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { deploymentRequestOf } from '../support/workflow-input.js';

const secret = () => randomBytes(18).toString('base64url');
const tokens = { viewer: secret(), deployer: secret(), approver: secret(), elsewhere: secret() };
type Who = keyof typeof tokens | 'admin' | 'nobody';

let stack: TestStack;
let env: string;
let v1: { file: string; bytes: Buffer; id: string };

beforeAll(async () => {
  stack = await startTestStack({
    auth: () => [
      { name: 'viewer', token: tokens.viewer, roles: ['viewer'] },
      { name: 'deployer', token: tokens.deployer, roles: ['deployer'] },
      { name: 'approver', token: tokens.approver, roles: ['approver'] },
      { name: 'elsewhere', token: tokens.elsewhere, roles: ['viewer', 'deployer', 'approver'], environments: ['somewhere-else'] },
    ],
    apiSettings: { logPollIntervalMs: 100, maxUploadBytes: 64 * 1024 },
  });
  env = stack.environment;
  const file = join(mkdtempSync(join(tmpdir(), 'cutover-routes-')), 'v1.tar.gz');
  await packDirectory('examples/demo-app/v1', file);
  v1 = { file, bytes: readFileSync(file), id: '' };
});
afterAll(async () => {
  await stack?.close();
});

/** A request as someone: a role's token, the stack's all-roles token, or none at all. */
async function as(who: Who, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const authorization: Record<string, string> =
    who === 'nobody' ? {} : { authorization: `Bearer ${who === 'admin' ? stack.adminToken : tokens[who]}` };
  const raw = body instanceof Uint8Array || typeof body === 'string';
  const res = await stack.app.request(path, {
    method,
    headers: { ...authorization, ...(body !== undefined && !raw ? { 'content-type': 'application/json' } : {}), ...headers },
    body: body === undefined ? undefined : raw ? (body as RequestInit['body']) : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, body: json, text, headers: res.headers };
}

const expectError = (r: { status: number; body: any }, status: number, message: RegExp, field?: string) => {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body.error.message).toMatch(message);
  if (field) expect(r.body.error.fields.map((f: any) => f.field)).toContain(field);
};

/** The one answer for what does not exist and for what belongs to an environment the token may not see. */
const expectNotFound = (r: { status: number; body: any }, what: 'environment named' | 'deployment with id', name: string) =>
  expect(r).toMatchObject({ status: 404, body: { error: { code: 'not-found', message: `no ${what} ${name}` } } });

const upload = (who: Who, bytes: Uint8Array, type = 'application/gzip') => as(who, 'POST', '/v1/packages', bytes, { 'content-type': type });

async function collect(body: ReadableStream<Uint8Array>): Promise<ServerSentEvent[]> {
  const events: ServerSentEvent[] = [];
  for await (const event of readEvents(body)) events.push(event);
  return events;
}

/** Visibility is eventually consistent: asks until the query finds what is expected. */
async function listUntil(query: string, found: (list: any) => boolean): Promise<any> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await as('viewer', 'GET', `/v1/deployments?${query}`);
    expect(r.status, r.text).toBe(200);
    if (found(r.body) || Date.now() > deadline) return r.body;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const routes: Array<[string, string]> = [
  ['GET', '/v1/environments'],
  ['GET', '/v1/environments/x'],
  ['POST', '/v1/environments/x/deployments'],
  ['GET', '/v1/deployments'],
  ['GET', '/v1/deployments/x-1'],
  ['GET', '/v1/deployments/x-1/log'],
  ['POST', '/v1/deployments/x-1/complete'],
  ['POST', '/v1/deployments/x-1/reset'],
  ['POST', '/v1/packages'],
  ['GET', '/v1/packages'],
  ['GET', `/v1/packages/${'a'.repeat(64)}`],
  ['GET', '/v1/no-such-route'],
];

describe('auth on every route', () => {
  test.each(routes)('%s %s without a token: 401 with WWW-Authenticate: Bearer', async (method, path) => {
    const r = await as('nobody', method, path);
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="cutover"/);
    expect(r.body.error.code).toBe('unauthorized');
  });

  test('a wrong token: 401 invalid_token', async () => {
    const r = await stack.app.request('/v1/environments', { headers: { authorization: `Bearer ${tokens.viewer}x` } });
    expect(r.status).toBe(401);
    expect(r.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  test('health, the document and the docs page are public; health says auth is enabled, and its details only to a token', async () => {
    const health = await as('nobody', 'GET', '/health');
    expect(health.status).toBe(200);
    // Without a token: the verdict, no environment, database, engine or address.
    expect(health.body).toEqual({ status: 'ok', auth: 'enabled' });
    expect(health.text).not.toContain(env);
    const detailed = await as('viewer', 'GET', '/health');
    const database = { environment: env, database: 'app', engine: 'postgres', ok: true };
    expect(detailed.body).toMatchObject({ status: 'ok', auth: 'enabled', temporal: { ok: true }, databases: [database] });
    expect((await as('nobody', 'GET', '/health', undefined, { authorization: 'Bearer not-a-token' })).status).toBe(401);
    expect((await as('nobody', 'GET', '/openapi.json')).status).toBe(200);
    expect((await as('nobody', 'GET', '/docs')).status).toBe(200);
  });
});

describe('environments', () => {
  test('GET /v1/environments: the ones the token may see', async () => {
    const all = await as('viewer', 'GET', '/v1/environments');
    expect(all.status).toBe(200);
    expect(all.body.environments).toEqual([
      expect.objectContaining({
        name: env,
        sites: [expect.objectContaining({ name: 'web', role: 'zdd', publicUrl: `${stack.publicUrl()}/` })],
        databases: [{ name: 'app', engine: 'postgres' }],
      }),
    ]);
    expect((await as('elsewhere', 'GET', '/v1/environments')).body.environments).toEqual([]);
  });

  test('GET /v1/environments/{environment}: 200, 400, 404 (also for one the token may not see)', async () => {
    const r = await as('viewer', 'GET', `/v1/environments/${env}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ name: env, runningDeployment: null, inMaintenance: false });
    expectError(
      await as('viewer', 'GET', '/v1/environments/Not_A_Name'),
      400,
      /^path\.environment: must be an environment name/,
      'path.environment',
    );
    // Another environment's answer is the one of an environment that does not exist: a token learns no names.
    expectNotFound(await as('elsewhere', 'GET', `/v1/environments/${env}`), 'environment named', env);
    expectError(await as('viewer', 'GET', '/v1/environments/nowhere'), 404, /no environment named nowhere/);
  });
});

describe('packages', () => {
  test('POST /v1/packages stores a .tar.gz and returns its id and the checksum of the upload', async () => {
    const r = await upload('deployer', v1.bytes);
    expect(r.status, r.text).toBe(201);
    expect(r.body).toMatchObject({
      name: 'demo-app',
      version: '1.0.0',
      upload: { bytes: v1.bytes.length, sha256: createHash('sha256').update(v1.bytes).digest('hex') },
    });
    expect(r.body.package).toBe(`sha256:${r.body.id}`);
    expect(r.headers.get('location')).toBe(`/v1/packages/${r.body.id}`);
    v1.id = r.body.id;
    // The same content again: the same package.
    expect((await upload('deployer', v1.bytes)).body.id).toBe(v1.id);
  });

  test('POST /v1/packages refuses: a viewer (403), the wrong content type (415), not gzip or not a package (422), too large (413)', async () => {
    expectError(await upload('viewer', v1.bytes), 403, /may not upload packages: it needs the role deployer/);
    expectError(await upload('deployer', v1.bytes, 'application/json'), 415, /header\.content-type: must be one of/, 'header.content-type');
    expectError(await upload('deployer', Buffer.from('just text')), 422, /^body: is not a \.tar\.gz/, 'body');
    expectError(await upload('deployer', new Uint8Array()), 422, /^body: is empty/, 'body');
    expectError(await upload('deployer', gzipSync(randomBytes(2000))), 422, /^body: the package was refused/, 'body');
    expectError(await upload('deployer', gzipSync(Buffer.alloc(4096))), 422, /^body: the package was refused/, 'body');
    expectError(
      await upload('deployer', Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(70 * 1024)])),
      413,
      /^the upload is larger than 64 KB, the most this API accepts$/,
    );
    expectError(
      await as('deployer', 'POST', '/v1/packages', v1.bytes, {
        'content-type': 'application/gzip',
        'content-length': String(10 * 1024 * 1024),
      }),
      413,
      /larger than/,
    );
  });

  test('GET /v1/packages and /v1/packages/{id}: 200, 400, 403, 404', async () => {
    const list = await as('viewer', 'GET', '/v1/packages');
    expect(list.status).toBe(200);
    expect(list.body.packages).toEqual([expect.objectContaining({ id: v1.id, version: '1.0.0' })]);
    // Packages belong to no environment: a token limited to some may not list every environment's.
    expectError(await as('elsewhere', 'GET', '/v1/packages'), 403, /^token elsewhere is limited to some environments and may not list/);
    expect((await as('viewer', 'GET', `/v1/packages/${v1.id}`)).body).toMatchObject({ id: v1.id, name: 'demo-app' });
    expectError(await as('viewer', 'GET', '/v1/packages/not-hex'), 400, /^path\.id: must be a package id/, 'path.id');
    expectError(await as('viewer', 'GET', `/v1/packages/${'0'.repeat(64)}`), 404, /no package 0+/);
  });
});

let firstId: string;

describe('a deployment from start to Complete', () => {
  let id: string;
  let followed: Promise<ServerSentEvent[]>;

  test('POST /v1/environments/{environment}/deployments refuses: 400, 403, 404, 422', async () => {
    const path = `/v1/environments/${env}/deployments`;
    expectError(
      await as('deployer', 'POST', path, { package: `sha256:${v1.id}`, mode: 'fast' }),
      400,
      /^body\.mode: must be one of readonly, readwrite, maintenance-page/,
      'body.mode',
    );
    expectError(await as('deployer', 'POST', path, { mode: 'readonly' }), 400, /^body\.package: is required/, 'body.package');
    expectError(await as('deployer', 'POST', path, { package: `sha256:${v1.id}`, surprise: 1 }), 400, /surprise/);
    const allow = { package: `sha256:${v1.id}`, allowMissingMigrations: 'yes' };
    expectError(
      await as('deployer', 'POST', path, allow),
      400,
      /^body\.allowMissingMigrations: must be true or false/,
      'body.allowMissingMigrations',
    );
    const rolling = { package: `sha256:${v1.id}`, strategy: 'rolling', maxUnavailable: 0 };
    expectError(await as('deployer', 'POST', path, rolling), 400, /^body\.maxUnavailable: must be at least 1/, 'body.maxUnavailable');
    const smooth = { package: `sha256:${v1.id}`, maxUnavailable: 2 };
    expectError(
      await as('deployer', 'POST', path, smooth),
      400,
      /^body\.maxUnavailable: only applies to strategy rolling/,
      'body.maxUnavailable',
    );
    const strategy = { package: `sha256:${v1.id}`, strategy: 'canary' };
    expectError(await as('deployer', 'POST', path, strategy), 400, /^body\.strategy: must be one of smooth, rolling/, 'body.strategy');
    expectError(await as('deployer', 'POST', path, '{"package":', { 'content-type': 'application/json' }), 400, /malformed request/);
    expectError(await as('viewer', 'POST', path, { package: `sha256:${v1.id}` }), 403, /needs the role deployer/);
    expectNotFound(await as('elsewhere', 'POST', path, { package: `sha256:${v1.id}` }), 'environment named', env);
    expectError(
      await as('deployer', 'POST', '/v1/environments/nowhere/deployments', { package: `sha256:${v1.id}` }),
      404,
      /no environment named nowhere/,
    );
    expectError(
      await as('deployer', 'POST', path, { package: `sha256:${'0'.repeat(64)}` }),
      422,
      /^body\.package: no package/,
      'body.package',
    );
    expect((await as('viewer', 'GET', `/v1/deployments?environment=${env}`)).body.deployments).toEqual([]);
  });

  test('202 with the deployment id and its links; a second one while it runs is 409 naming it', async () => {
    const body = { package: `sha256:${v1.id}`, requestedBy: 'alice', allowMissingMigrations: true };
    const r = await as('deployer', 'POST', `/v1/environments/${env}/deployments`, body);
    expect(r.status, r.text).toBe(202);
    id = firstId = r.body.deploymentId;
    // The deployment workflow gets the request's choice (the workflow hands it to applyMigrations).
    const request = await deploymentRequestOf(stack.client, r.body.workflowId);
    expect(request).toMatchObject({ requestedBy: 'alice (token deployer)', allowMissingMigrations: true });
    expect(r.headers.get('location')).toBe(`/v1/deployments/${id}`);
    expect(r.body.links).toMatchObject({ self: `/v1/deployments/${id}`, log: `/v1/deployments/${id}/log` });
    // Followed from the start; the stream ends by itself once the deployment is completed.
    const res = await stack.app.request(`/v1/deployments/${id}/log?follow=true`, { headers: { authorization: `Bearer ${tokens.viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/event-stream/);
    followed = collect(res.body!);

    const busy = await as('deployer', 'POST', `/v1/environments/${env}/deployments`, { package: `sha256:${v1.id}` });
    expectError(busy, 409, new RegExp(`already has a deployment in progress: ${id}`));
    expect(busy.body.error.state).toBe('busy');
  });

  test('GET /v1/deployments/{id}: 200, 400, 403, 404', async () => {
    const r = await as('viewer', 'GET', `/v1/deployments/${id}`);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ deploymentId: id, environment: env, mode: 'readonly', package: { sha256: v1.id } });
    expectError(await as('viewer', 'GET', '/v1/deployments/Bad.Id'), 400, /^path\.id: must be a deployment id/, 'path.id');
    // A deployment of another environment is answered as one that does not exist.
    expectNotFound(await as('elsewhere', 'GET', `/v1/deployments/${id}`), 'deployment with id', id);
    expectError(await as('viewer', 'GET', `/v1/deployments/${env}-20200101-000000-0000`), 404, /no deployment with id/);
  });

  test('GET /v1/deployments finds it awaiting verification by its search attributes; 400, 403, 404', async () => {
    await stack.waitForPhase(id, ['awaiting-verification']);
    const list = await listUntil(`environment=${env}&phase=awaiting-verification`, (l) => l.deployments.length > 0);
    expect(list.deployments).toEqual([
      expect.objectContaining({
        deploymentId: id,
        environment: env,
        phase: 'awaiting-verification',
        mode: 'readonly',
        packageVersion: '1.0.0',
        execution: 'running',
        links: { self: `/v1/deployments/${id}` },
      }),
    ]);
    expect((await as('viewer', 'GET', `/v1/deployments?environment=${env}&phase=completed`)).body.deployments).toEqual([]);
    expect((await as('viewer', 'GET', `/v1/deployments?environment=${env}&version=9.9.9`)).body.deployments).toEqual([]);
    // A token limited elsewhere sees none of it, even without asking for an environment.
    expect((await as('elsewhere', 'GET', '/v1/deployments?phase=awaiting-verification')).body.deployments).toEqual([]);
    expectError(await as('viewer', 'GET', '/v1/deployments?phase=waiting'), 400, /^query\.phase: must be one of/, 'query.phase');
    expectError(
      await as('viewer', 'GET', '/v1/deployments?pageSize=1000'),
      400,
      /^query\.pageSize: must be a whole number from 1 to 100/,
      'query.pageSize',
    );
    expectError(await as('viewer', 'GET', '/v1/deployments?version=1.0"%20OR%20"x'), 400, /^query\.version/, 'query.version');
    expectNotFound(await as('elsewhere', 'GET', `/v1/deployments?environment=${env}`), 'environment named', env);
    expectError(await as('viewer', 'GET', '/v1/deployments?environment=nowhere'), 404, /no environment named nowhere/);
  });

  test('POST /v1/deployments/{id}/complete refuses: 400, 403 (role), 404 (also another environment), 421 (another Host)', async () => {
    expectError(await as('approver', 'POST', `/v1/deployments/${id}/complete`, { requestedBy: 'bob', extra: true }), 400, /extra/, 'body');
    expectError(await as('deployer', 'POST', `/v1/deployments/${id}/complete`, {}), 403, /needs the role approver/);
    expectNotFound(await as('elsewhere', 'POST', `/v1/deployments/${id}/complete`, {}), 'deployment with id', id);
    // Sent from a page whose DNS name was rebound to the API's address: its Host gives it away, even with a token.
    const rebound = await as('approver', 'POST', `/v1/deployments/${id}/complete`, {}, { host: 'evil.example' });
    expectError(rebound, 421, /Host header names a host this API does not answer to/);
    expectError(await as('approver', 'POST', `/v1/deployments/${env}-20200101-000000-0000/complete`, {}), 404, /no deployment/);
    expect((await as('viewer', 'GET', `/v1/deployments/${id}`)).body.phase).toBe('awaiting-verification');
  });

  test('Complete: 200, the log stream ends with the deployment; again: 409 naming the state', async () => {
    const r = await as('approver', 'POST', `/v1/deployments/${id}/complete`, { requestedBy: 'bob' });
    expect(r.status, r.text).toBe(200);
    expect(r.body.decision).toMatchObject({ action: 'complete', requestedBy: 'bob (token approver)' });
    const events = await followed;
    const end = events.at(-1)!;
    expect(end.event).toBe('end');
    expect(JSON.parse(end.data)).toEqual({ phase: 'completed' });
    const lines = events.filter((e) => e.event === 'line');
    expect(lines.map((e) => Number(e.id))).toEqual(lines.map((_, i) => i + 1));
    const messages = lines.map((e) => JSON.parse(e.data).message as string);
    expect(messages).toEqual(
      expect.arrayContaining([expect.stringMatching(/^Awaiting verification/), 'Complete requested by bob (token approver)']),
    );

    const again = await as('approver', 'POST', `/v1/deployments/${id}/complete`, {});
    expectError(again, 409, /completed/);
    expect(again.body.error.state).toBe('completed');
  });

  test('GET /v1/deployments/{id}/log: text, or resumed from Last-Event-ID; 400, 403, 404', async () => {
    const text = await as('viewer', 'GET', `/v1/deployments/${id}/log`);
    expect(text.status).toBe(200);
    expect(text.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text.text).toMatch(/INFO +Complete requested by bob/);
    const total = text.text.trim().split('\n').length;
    const after = await as('viewer', 'GET', `/v1/deployments/${id}/log?after=${total - 1}`);
    expect(after.text.trim().split('\n')).toHaveLength(1);
    const resumed = await stack.app.request(`/v1/deployments/${id}/log?follow=true`, {
      headers: { authorization: `Bearer ${tokens.viewer}`, 'last-event-id': String(total - 2) },
    });
    const events = await collect(resumed.body!);
    expect(events.map((e) => [e.event, e.id])).toEqual([
      ['line', String(total - 1)],
      ['line', String(total)],
      ['end', undefined],
    ]);
    expectError(
      await as('viewer', 'GET', `/v1/deployments/${id}/log?follow=yes`),
      400,
      /^query\.follow: must be true or false/,
      'query.follow',
    );
    expectNotFound(await as('elsewhere', 'GET', `/v1/deployments/${id}/log`), 'deployment with id', id);
    expectError(await as('viewer', 'GET', `/v1/deployments/${env}-20200101-000000-0000/log?follow=true`), 404, /no deployment/);
  });
});

describe('a deployment Reset, and one completed from the temporal CLI', () => {
  let v2: string;
  let second: string;

  test('Reset refuses: 400, 403, 404, 409; then resets by the deployer who started it (200)', async () => {
    const started = await as('deployer', 'POST', `/v1/environments/${env}/deployments`, { package: resolve('examples/demo-app/v2') });
    expect(started.status, started.text).toBe(202);
    second = started.body.deploymentId;
    v2 = (await stack.waitForPhase(second, ['awaiting-verification'])).package.sha256;
    const path = `/v1/deployments/${second}/reset`;
    expectError(await as('approver', 'POST', path, {}), 400, /^body\.rollbackDatabase: is required/, 'body.rollbackDatabase');
    expectError(
      await as('approver', 'POST', path, { rollbackDatabase: 'yes' }),
      400,
      /^body\.rollbackDatabase: must be true or false/,
      'body.rollbackDatabase',
    );
    expectError(await as('viewer', 'POST', path, { rollbackDatabase: false }), 403, /needs one of the roles deployer, approver/);
    expectNotFound(await as('elsewhere', 'POST', path, { rollbackDatabase: false }), 'deployment with id', second);
    expectError(
      await as('approver', 'POST', `/v1/deployments/${env}-20200101-000000-0000/reset`, { rollbackDatabase: false }),
      404,
      /no deployment/,
    );
    const reset = await as('deployer', 'POST', path, { rollbackDatabase: true });
    expect(reset.status, reset.text).toBe(200);
    expect(reset.body.decision).toMatchObject({ action: 'reset', rollbackDatabase: true, requestedBy: 'deployer' });
    await stack.waitForPhase(second, ['reset']);
    const again = await as('approver', 'POST', path, { rollbackDatabase: false });
    expectError(again, 409, /reset/);
    expect(again.body.error.state).toBe('reset');
  });

  test('found awaiting verification by a search-attribute query on Temporal, completed with the temporal CLI', async () => {
    const third = (await as('deployer', 'POST', `/v1/environments/${env}/deployments`, { package: `sha256:${v2}`, mode: 'readwrite' })).body
      .deploymentId as string;
    await stack.waitForPhase(third, ['awaiting-verification']);
    const query = `WorkflowType = "deploymentWorkflow" AND CutoverEnvironment = "${env}" AND CutoverPhase = "awaiting-verification"`;
    const found: string[] = [];
    for (const deadline = Date.now() + 20_000; found.length === 0 && Date.now() < deadline;) {
      for await (const wf of stack.client.workflow.list({ query })) found.push(wf.workflowId);
      if (found.length === 0) await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(found).toEqual([third]);

    const cli = (...args: string[]) =>
      promisify(execFile)(inject('temporalCli'), [...args, '--address', inject('temporalAddress'), '--namespace', 'default']);
    const updated = await cli(
      'workflow',
      'update',
      'execute',
      '--workflow-id',
      third,
      '--name',
      'complete',
      '--input',
      '{"requestedBy":"temporal-cli"}',
    );
    expect(updated.stdout).toMatch(/completing|awaiting-verification|deploymentId/);
    const done = await stack.waitForPhase(third, ['completed']);
    expect(done.decision).toMatchObject({ action: 'complete', requestedBy: 'temporal-cli' });
    const listed = await cli(
      'workflow',
      'list',
      '--query',
      `CutoverEnvironment = "${env}" AND CutoverMode = "readwrite"`,
      '--output',
      'json',
    );
    expect(listed.stdout).toContain(third);

    // Three deployments now: two pages of two, newest first, then the last one.
    const first = await listUntil(
      `environment=${env}&pageSize=2`,
      (l) => l.deployments.length === 2 && l.deployments.every((d: any) => d.phase !== 'awaiting-verification'),
    );
    expect(first.nextPageToken).toEqual(expect.any(String));
    const next = await as('viewer', 'GET', `/v1/deployments?environment=${env}&pageSize=2&pageToken=${first.nextPageToken}`);
    expect(next.status, next.text).toBe(200);
    const ids = [...first.deployments, ...next.body.deployments].map((d: any) => d.deploymentId);
    expect([...ids].sort()).toEqual([firstId, second, third].sort());
    expectError(
      await as('viewer', 'GET', `/v1/deployments?environment=${env}&pageToken=bm90LWEtdG9rZW4`),
      400,
      /^query\.pageToken: is not a page token/,
      'query.pageToken',
    );
    // A token of another query (here: another filter) is refused too, rather than giving a wrong page.
    expectError(
      await as('viewer', 'GET', `/v1/deployments?environment=${env}&phase=completed&pageToken=${first.nextPageToken}`),
      400,
      /^query\.pageToken/,
      'query.pageToken',
    );
  });
});
