/**
 * The API when a part of Cutover is down: every call answers (within seconds: 3 s for Temporal, 4 s for a worker),
 * with the result or a 503 that names the part (the worker, or Temporal), never a silent null; and a token of one
 * environment learns nothing of another's deployments even then. A real worker process is SIGKILLed; Temporal is a port nobody listens on.
 */
import { Client, Connection } from '@temporalio/client';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { freePort } from '../../src/process/free-port.js';
import { startTestStack, type TestStack } from '../support/stack.js';

/** Answers instead of hanging (30 s and more before): the service's budgets are 3 s for Temporal and 4 s for a worker;
 * this bound only separates an answer from a hang on a loaded machine, the timings themselves are not asserted. */
const ANSWER_WITHIN_MS = 15_000;
const tokens = { ops: randomBytes(18).toString('base64url'), elsewhere: randomBytes(18).toString('base64url') };

let stack: TestStack;
let id: string;

beforeAll(async () => {
  stack = await startTestStack({
    workerProcess: true,
    auth: () => [
      { name: 'ops', token: tokens.ops, roles: ['viewer', 'deployer', 'approver'] },
      { name: 'elsewhere', token: tokens.elsewhere, roles: ['viewer', 'deployer', 'approver'], environments: ['somewhere-else'] },
    ],
  });
  id = await stack.deploy('examples/demo-app/v1');
  await stack.waitForPhase(id, ['awaiting-verification']);
}, 180_000);
afterAll(async () => {
  await stack?.close();
});

/** A request through the given app, timed. */
async function timed(app: TestStack['app'], method: string, path: string, body?: unknown, token = tokens.ops) {
  const started = Date.now();
  const response = await app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text), ms: Date.now() - started };
}

describe('the worker is down', () => {
  beforeAll(async () => {
    await stack.killWorker();
  });

  test('Complete answers 503 naming the worker and the phase Temporal recorded, without hanging', async () => {
    const r = await timed(stack.app, 'POST', `/v1/deployments/${id}/complete`, {});
    expect(r.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body.error).toMatchObject({ code: 'worker-unavailable', state: 'awaiting-verification' });
    const named = `^no Cutover worker answered for deployment ${id} within 4 s \\(is the worker running\\? it polls Temporal task queue`;
    expect(r.body.error.message).toMatch(new RegExp(named));
  });

  test('a new deployment answers 503 naming the worker, without hanging', async () => {
    const body = { package: `sha256:${await storedPackageId()}` };
    const started = await timed(stack.app, 'POST', `/v1/environments/${stack.environment}/deployments`, body);
    expect(started.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(started.status, JSON.stringify(started.body)).toBe(503);
    expect(started.body.error.code).toBe('worker-unavailable');
    expect(started.body.error.message).toMatch(new RegExp(`no Cutover worker answered for environment ${stack.environment}`));
  });

  test('the environment answers 503 naming the worker, not runningDeployment: null', async () => {
    const r = await timed(stack.app, 'GET', `/v1/environments/${stack.environment}`);
    expect(r.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body.error.code).toBe('worker-unavailable');
    expect(r.body.error.message).toMatch(/its running deployment cannot be read/);
  });

  test('the deployment answers 503 naming the worker without hanging', async () => {
    const r = await timed(stack.app, 'GET', `/v1/deployments/${id}`);
    expect(r.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(r.status).toBe(503);
    expect(r.body.error).toMatchObject({ code: 'worker-unavailable', state: 'awaiting-verification' });
  });

  test('a token of another environment learns nothing: the same 404 as for a deployment that does not exist', async () => {
    const missing = `${stack.environment}-20200101-000000-0000`;
    for (const path of [`/v1/deployments/${id}`, `/v1/deployments/${id}/log`]) {
      const r = await timed(stack.app, 'GET', path, undefined, tokens.elsewhere);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'not-found', message: `no deployment with id ${id}` } });
      expect(JSON.stringify(r.body)).not.toMatch(/awaiting-verification|worker/);
    }
    const complete = await timed(stack.app, 'POST', `/v1/deployments/${id}/complete`, {}, tokens.elsewhere);
    expect(complete.body).toEqual({ error: { code: 'not-found', message: `no deployment with id ${id}` } });
    expect((await timed(stack.app, 'GET', `/v1/deployments/${missing}`, undefined, tokens.elsewhere)).body).toEqual({
      error: { code: 'not-found', message: `no deployment with id ${missing}` },
    });
  });

  test('once the worker is back, nothing refused while it was down has happened, and Complete works', async () => {
    await stack.startWorker();
    const status = await stack.waitForPhase(id, ['awaiting-verification']);
    expect(status.decision).toBeNull();
    const environment = await timed(stack.app, 'GET', `/v1/environments/${stack.environment}`);
    expect(environment.body).toMatchObject({ runningDeployment: id });
    const complete = await timed(stack.app, 'POST', `/v1/deployments/${id}/complete`, {});
    expect(complete.status, JSON.stringify(complete.body)).toBe(200);
    await stack.waitForPhase(id, ['completed']);
  }, 120_000);
});

describe('Temporal is unreachable', () => {
  let app: TestStack['app'];
  let connection: Connection;

  beforeAll(async () => {
    // The stack's configuration, but Temporal at a port nobody listens on: as when the server is down.
    const address = `127.0.0.1:${await freePort()}`;
    connection = Connection.lazy({ address });
    const config = { ...stack.config, temporal: { ...stack.config.temporal, address } };
    app = createApp(createApiDeps(config, new Client({ connection, namespace: config.temporal.namespace }), stack.env));
  });
  afterAll(async () => {
    await connection?.close();
  });

  test.each([
    ['GET', '/v1/deployments/{id}'],
    ['POST', '/v1/deployments/{id}/complete'],
    ['GET', '/v1/environments/{environment}'],
    ['GET', '/v1/deployments?environment={environment}'],
  ])('%s %s answers 503 naming Temporal without hanging', async (method, route) => {
    const path = route.replace('{id}', id).replace('{environment}', stack.environment);
    const r = await timed(app, method, path, method === 'POST' ? {} : undefined);
    expect(r.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body.error.code).toBe('temporal-unavailable');
    expect(r.body.error.message).toMatch(/^Temporal at 127\.0\.0\.1:\d+ did not answer/);
  });
});

/** The package of the running deployment, already in the store. */
async function storedPackageId(): Promise<string> {
  const list = await timed(stack.app, 'GET', '/v1/packages');
  return list.body.packages[0].id as string;
}
