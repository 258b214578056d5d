/** The Slack routes against a stub deployments service: the edges that need no real deployment. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { ApiDeps } from '../../src/api/deps.js';
import type { DeploymentRef, DeploymentsService } from '../../src/deployments/service.js';
import { ActionNotAvailable, WorkerUnavailable } from '../../src/deployments/errors.js';
import { onError } from '../../src/api/errors.js';
import { isSlackResponseUrl, slackRoutes } from '../../src/api/routes/slack.js';
import { Hono } from 'hono';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { approver, buttonPayload, commandForm, deploymentStatus, signedForm, slackConfig, stranger } from './fixtures.js';

const secret = 'route-test-signing-secret';
const shopDeployment: DeploymentRef = {
  deploymentId: 'shop-20250101-120000-ab12',
  environment: 'shop',
  phase: 'awaiting-verification',
  execution: 'running',
};
const env = { TEST_SLACK_SIGNING_SECRET: secret };
let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
});

function appWith(
  deployments: Partial<DeploymentsService>,
  options: { config?: ReturnType<typeof slackConfig>; env?: NodeJS.ProcessEnv } = {},
) {
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
  const r = await send(app, '/slack/interactivity', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(buttonPayload(approver, 'cutover_complete', 'shop-1')).toString(),
  });
  expect(r.status).toBe(401);
  expect(r.body.error).toEqual({
    code: 'invalid-signature',
    message: 'Slack request refused: missing X-Slack-Signature or X-Slack-Request-Timestamp',
  });
  expect(calls).toEqual([]);
});

test('a body over 64 KiB is refused', async () => {
  const { app } = appWith({});
  const r = await send(
    app,
    '/slack/commands',
    signedForm(secret, { ...commandForm(approver, 'status shop'), padding: 'x'.repeat(70_000) }),
  );
  expect(r.status).toBe(413);
});

describe('interactivity', () => {
  test('payloads other than button presses are acknowledged and ignored', async () => {
    const { app, calls } = appWith({});
    const r = await send(
      app,
      '/slack/interactivity',
      signedForm(secret, { payload: JSON.stringify({ type: 'view_submission', user: { id: approver } }) }),
    );
    expect(r.status).toBe(200);
    expect(r.text).toBe('');
    expect(calls).toEqual([]);
  });

  test('a malformed payload is a 400', async () => {
    const { app } = appWith({});
    expect((await send(app, '/slack/interactivity', signedForm(secret, { payload: '{not json' }))).status).toBe(400);
    expect(
      (await send(app, '/slack/interactivity', signedForm(secret, { payload: JSON.stringify({ type: 'block_actions', actions: [] }) })))
        .status,
    ).toBe(400);
  });

  test('a refusal reaches the user through response_url as an ephemeral message; nothing is read for who approves nothing', async () => {
    const { app, calls } = appWith({ find: async () => shopDeployment, complete: async () => deploymentStatus() });
    const r = await send(
      app,
      '/slack/interactivity',
      signedForm(secret, buttonPayload(stranger, 'cutover_complete', 'shop-20250101-120000-ab12', slack.hookUrl('refusal'))),
    );
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ response_type: 'ephemeral', text: 'Only approvers can complete a deployment; nothing was changed.' });
    expect(calls).toEqual([]);
    await expect.poll(() => slack.hooks.find((h) => h.path === '/hooks/refusal')?.body).toEqual({ ...r.body, replace_original: false });
  });

  test("an approver of another environment is refused by name of the deployment's environment", async () => {
    const config = slackConfig({ apiUrl: slack.apiUrl, quietApprovers: [stranger] });
    const { app, calls } = appWith({ find: async () => shopDeployment, complete: async () => deploymentStatus() }, { config });
    const form = buttonPayload(stranger, 'cutover_complete', shopDeployment.deploymentId);
    const r = await send(app, '/slack/interactivity', signedForm(secret, form));
    expect(r.body.text).toBe('Only the approvers of shop can complete a deployment; nothing was changed.');
    expect(calls.map((c) => c.split(' ')[0])).toEqual(['find']);
  });

  test("a press without Slack's trigger_id is a 400", async () => {
    const { app, calls } = appWith({});
    const payload = JSON.parse(buttonPayload(approver, 'cutover_complete', 'shop-1').payload!);
    delete payload.trigger_id;
    const r = await send(app, '/slack/interactivity', signedForm(secret, { payload: JSON.stringify(payload) }));
    expect(r.status).toBe(400);
    expect(calls).toEqual([]);
  });

  test("the decision carries Slack's trigger_id as its request id, so a replay is answered, not repeated", async () => {
    const { app, calls } = appWith({ find: async () => shopDeployment, complete: async () => deploymentStatus() });
    const form = buttonPayload(approver, 'cutover_complete', 'shop-20250101-120000-ab12');
    const trigger = JSON.parse(form.payload!).trigger_id as string;
    const r = await send(app, '/slack/interactivity', signedForm(secret, form));
    expect(r.body.text).toBe('Complete accepted for deployment `shop-20250101-120000-ab12`: it is being completed.');
    const args = [shopDeployment, { requestedBy: `slack:${approver}`, approver }, { requestId: `slack-${trigger}` }];
    expect(calls.at(-1)).toBe(`complete ${JSON.stringify(args)}`);
  });

  test('an unexpected failure still answers the user', async () => {
    const { app } = appWith({
      find: async () => {
        throw new Error('something unexpected');
      },
    });
    const r = await send(
      app,
      '/slack/interactivity',
      signedForm(secret, buttonPayload(approver, 'cutover_complete', 'shop-20250101-120000-ab12')),
    );
    expect(r.status).toBe(200);
    expect(r.body.text).toBe('Cutover could not handle this request; the API log has the details.');
  });

  test('buttons that name no deployment or an unknown action change nothing', async () => {
    const { app, calls } = appWith({});
    expect(
      (await send(app, '/slack/interactivity', signedForm(secret, buttonPayload(approver, 'cutover_complete', '../../etc')))).body.text,
    ).toBe('This button names no deployment.');
    expect(
      (await send(app, '/slack/interactivity', signedForm(secret, buttonPayload(approver, 'cutover_launch', 'shop-1')))).body.text,
    ).toBe('Unknown action cutover_launch.');
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
  const idle: Partial<DeploymentsService> = {
    environmentState: async () => ({ environment: 'shop', running: null, last: { deploymentId: 'shop-1', outcome: 'completed' } }),
  };

  test('usage when the command makes no sense', async () => {
    for (const text of ['', 'status', 'deploy shop', 'complete shop now', 'reset shop please', 'status shop extra words']) {
      expect((await reply({}, approver, text)).text).toMatch(/^Usage: /);
    }
  });

  test('unknown environments and environments without Slack approvals are named', async () => {
    expect((await reply({}, approver, 'status nowhere')).text).toBe('No environment named nowhere.');
    expect((await reply({}, approver, 'status quiet')).text).toBe('Slack approvals are not enabled for environment quiet.');
  });

  test('complete and reset name a deployment, never an environment: a replay cannot act on the next deployment', async () => {
    for (const text of ['complete shop', 'reset shop', 'reset shop database']) {
      const { text: answer, calls } = await reply(idle, approver, text);
      expect(answer).toMatch(/^`\/cutover (complete|reset)` takes a deployment id, not an environment: `\/cutover status shop` shows/);
      expect(answer).toContain('Usage: ');
      expect(calls).toEqual([]);
    }
    expect((await reply({}, approver, 'complete Not/An/Id')).text).toMatch(/^Usage: /);
  });

  test("a command without Slack's trigger_id is a 400", async () => {
    const { app, calls } = appWith(idle);
    const { trigger_id: _, ...form } = commandForm(approver, 'status shop');
    expect((await send(app, '/slack/commands', signedForm(secret, form))).status).toBe(400);
    expect(calls).toEqual([]);
  });

  test('status when nothing runs names the last deployment', async () => {
    expect((await reply(idle, stranger, 'status shop')).text).toBe(
      'No deployment is running in shop. The last one, `shop-1`, ended completed.',
    );
  });

  test('a non-approver is refused before anything about the deployments is read', async () => {
    const { text, calls } = await reply(idle, stranger, 'reset shop-20250101-120000-ab12 database');
    expect(text).toBe('Only approvers can reset a deployment; nothing was changed.');
    expect(calls).toEqual([]);
  });

  test('a refusal of the deployments service names the state; an outage names the part that is down', async () => {
    const refused = await reply(
      {
        find: async () => ({ ...shopDeployment, deploymentId: 'shop-2', phase: 'warmup' }),
        complete: async () => {
          throw new ActionNotAvailable('complete', 'warmup', 'Complete is not available while the deployment is warmup');
        },
      },
      approver,
      'complete shop-2',
    );
    expect(refused.text).toBe('Complete is not available while the deployment is warmup; nothing was changed.');
    const down = await reply(
      {
        find: async () => {
          throw new WorkerUnavailable('cutover', null, 'no Cutover worker answered for deployment shop-2 within 4 s');
        },
      },
      approver,
      'reset shop-2',
    );
    expect(down.text).toBe('Cutover cannot answer now: no Cutover worker answered for deployment shop-2 within 4 s.');
  });

  test("Slack's SSL check is acknowledged", async () => {
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
