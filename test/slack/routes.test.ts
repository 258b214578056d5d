/** The Slack routes against a stub deployments service: the edges that need no real deployment. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import type { DeploymentsService } from '../../src/api/deployments-service.js';
import { ApiError, onError } from '../../src/api/errors.js';
import { isSlackResponseUrl, slackRoutes } from '../../src/api/routes/slack.js';
import { Hono } from 'hono';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { approver, buttonPayload, commandForm, deploymentStatus, signedForm, slackConfig, stranger } from './fixtures.js';

const secret = 'route-test-signing-secret';
const env = { TEST_SLACK_SIGNING_SECRET: secret };
let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
});

function appWith(deployments: Partial<DeploymentsService>, options: { config?: ReturnType<typeof slackConfig>; env?: NodeJS.ProcessEnv } = {}) {
  const config = options.config ?? slackConfig({ apiUrl: slack.apiUrl });
  const calls: string[] = [];
  const service = new Proxy(deployments, {
    get: (target, name: string) => {
      const fn = (target as Record<string, unknown>)[name];
      return typeof fn === 'function' ? (...args: unknown[]) => (calls.push(`${name} ${JSON.stringify(args)}`), fn(...args)) : fn;
    },
  });
  const app = new Hono();
  app.route('/', slackRoutes({ config, deployments: service } as unknown as ApiDeps, { env: options.env ?? env }));
  app.onError(onError);
  return { app, calls };
}

const send = async (app: Hono, path: string, init: RequestInit) => {
  const response = await app.request(path, init);
  const text = await response.text();
  return { status: response.status, text, body: text ? JSON.parse(text) : null };
};

test('without a slack section the routes do not exist', async () => {
  const { app } = appWith({}, { config: slackConfig({ topLevel: false }) });
  expect((await send(app, '/slack/commands', signedForm(secret, commandForm(approver, 'status shop')))).status).toBe(404);
});

test('without the signing secret nothing can be verified: 503 naming the variable', async () => {
  const { app, calls } = appWith({}, { env: {} });
  const r = await send(app, '/slack/commands', signedForm(secret, commandForm(approver, 'status shop')));
  expect(r.status).toBe(503);
  expect(r.body.error.message).toContain('TEST_SLACK_SIGNING_SECRET is not set');
  expect(calls).toEqual([]);
});

test('an unsigned request is refused before the deployments service is asked anything', async () => {
  const { app, calls } = appWith({ complete: async () => deploymentStatus() });
  const r = await send(app, '/slack/interactivity', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(buttonPayload(approver, 'cutover_complete', 'shop-1')).toString() });
  expect(r.status).toBe(401);
  expect(r.body.error).toEqual({ code: 'invalid-signature', message: 'Slack request refused: missing X-Slack-Signature or X-Slack-Request-Timestamp' });
  expect(calls).toEqual([]);
});

test('a body over 64 KiB is refused', async () => {
  const { app } = appWith({});
  const r = await send(app, '/slack/commands', signedForm(secret, { ...commandForm(approver, 'status shop'), padding: 'x'.repeat(70_000) }));
  expect(r.status).toBe(413);
});

describe('interactivity', () => {
  test('payloads other than button presses are acknowledged and ignored', async () => {
    const { app, calls } = appWith({});
    const r = await send(app, '/slack/interactivity', signedForm(secret, { payload: JSON.stringify({ type: 'view_submission', user: { id: approver } }) }));
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(calls).toEqual([]);
  });

  test('a malformed payload is a 400', async () => {
    const { app } = appWith({});
    expect((await send(app, '/slack/interactivity', signedForm(secret, { payload: '{not json' }))).status).toBe(400);
    expect((await send(app, '/slack/interactivity', signedForm(secret, { payload: JSON.stringify({ type: 'block_actions', actions: [] }) }))).status).toBe(400);
  });

  test('a refusal reaches the user through response_url as an ephemeral message', async () => {
    const { app, calls } = appWith({ status: async () => deploymentStatus(), complete: async () => deploymentStatus() });
    const r = await send(app, '/slack/interactivity', signedForm(secret, buttonPayload(stranger, 'cutover_complete', 'shop-20250101-120000-ab12', slack.hookUrl('refusal'))));
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ response_type: 'ephemeral', text: 'Only the approvers of shop can complete a deployment; nothing was changed.' });
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['status']);
    await expect.poll(() => slack.hooks.find((h) => h.path === '/hooks/refusal')?.body).toEqual({ ...r.body, replace_original: false });
  });

  test('an unexpected failure still answers the user', async () => {
    const { app } = appWith({
      status: async () => {
        throw new Error('Temporal is unreachable');
      },
    });
    const r = await send(app, '/slack/interactivity', signedForm(secret, buttonPayload(approver, 'cutover_complete', 'shop-20250101-120000-ab12')));
    expect(r.status).toBe(200);
    expect(r.body.text).toBe('Cutover could not handle this request; the API log has the details.');
  });

  test('buttons that name no deployment or an unknown action change nothing', async () => {
    const { app, calls } = appWith({});
    expect((await send(app, '/slack/interactivity', signedForm(secret, buttonPayload(approver, 'cutover_complete', '../../etc')))).body.text).toBe('This button names no deployment.');
    expect((await send(app, '/slack/interactivity', signedForm(secret, buttonPayload(approver, 'cutover_launch', 'shop-1')))).body.text).toBe('Unknown action cutover_launch.');
    expect(calls).toEqual([]);
  });
});

describe('slash command', () => {
  const reply = async (deployments: Partial<DeploymentsService>, user: string, text: string) => {
    const { app, calls } = appWith(deployments);
    const r = await send(app, '/slack/commands', signedForm(secret, commandForm(user, text)));
    expect(r.status).toBe(200);
    expect(r.body.response_type).toBe('ephemeral');
    return { text: r.body.text as string, calls };
  };
  const idle: Partial<DeploymentsService> = { environmentState: async () => ({ environment: 'shop', running: null, last: { deploymentId: 'shop-1', outcome: 'completed' } }) };

  test('usage when the command makes no sense', async () => {
    for (const text of ['', 'status', 'deploy shop', 'complete shop now', 'reset shop please', 'status shop extra words']) {
      expect((await reply({}, approver, text)).text).toMatch(/^Usage: /);
    }
  });

  test('unknown environments and environments without Slack approvals are named', async () => {
    expect((await reply({}, approver, 'status nowhere')).text).toBe('No environment named nowhere.');
    expect((await reply({}, approver, 'complete quiet')).text).toBe('Slack approvals are not enabled for environment quiet.');
  });

  test('status when nothing runs names the last deployment', async () => {
    expect((await reply(idle, stranger, 'status shop')).text).toBe('No deployment is running in shop. The last one, `shop-1`, ended completed.');
  });

  test('a non-approver is refused before anything about the deployments is read', async () => {
    const { text, calls } = await reply(idle, stranger, 'reset shop database');
    expect(text).toBe('Only the approvers of shop can reset a deployment; nothing was changed.');
    expect(calls).toEqual([]);
  });

  test('a refusal of the deployments service (409) names the state', async () => {
    const { text } = await reply(
      {
        environmentState: async () => ({ environment: 'shop', running: { deploymentId: 'shop-2', workflowId: 'shop-2' }, last: null }),
        status: async () => deploymentStatus({ deploymentId: 'shop-2', phase: 'warmup', actions: ['reset'] }),
        complete: async () => {
          throw new ApiError(409, 'action-not-available', 'Complete is not available: the deployment is warmup', { state: 'warmup' });
        },
      },
      approver,
      'complete shop',
    );
    expect(text).toBe('Complete is not available: the deployment is warmup; nothing was changed.');
  });

  test('Slack\'s SSL check is acknowledged', async () => {
    const { app } = appWith({});
    expect((await send(app, '/slack/commands', signedForm(secret, { ssl_check: '1', token: 'x' }))).status).toBe(200);
  });
});

test('replies go only to Slack hooks or the configured stand-in', () => {
  expect(isSlackResponseUrl('https://hooks.slack.com/actions/T0/1/abc', 'https://slack.com/api/')).toBe(true);
  expect(isSlackResponseUrl('http://hooks.slack.com/actions/T0/1/abc', 'https://slack.com/api/')).toBe(false);
  expect(isSlackResponseUrl('https://hooks.slack.com.evil.example/x', 'https://slack.com/api/')).toBe(false);
  expect(isSlackResponseUrl('http://169.254.169.254/latest/meta-data', 'https://slack.com/api/')).toBe(false);
  expect(isSlackResponseUrl('http://127.0.0.1:9/hooks/x', 'http://127.0.0.1:9/api/')).toBe(true);
  expect(isSlackResponseUrl('not a url', 'https://slack.com/api/')).toBe(false);
});
