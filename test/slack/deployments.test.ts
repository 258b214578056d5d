/**
 * The Slack bot on real deployments: signed button presses and slash commands against a whole Cutover
 * (real Temporal, real PostgreSQL), the outbound messages on a local server standing in for Slack.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import type { SlackMessageRef } from '../../src/slack/contract.js';
import { signSlackRequest } from '../../src/slack/verify.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { approver, buttonPayload, channel, commandForm, signedForm, stranger, type SignedOptions } from './fixtures.js';

const secret = 'e2e-signing-secret-3f9a';
const token = 'xoxb-e2e-bot-token';
let stack: TestStack;
let slack: FakeSlack;

beforeAll(async () => {
  slack = await startFakeSlack();
  // The API reads the signing secret from its environment, per request.
  process.env.CUTOVER_E2E_SLACK_SIGNING_SECRET = secret;
  // The worker reads the bot token from its environment when it posts.
  process.env.CUTOVER_E2E_SLACK_BOT_TOKEN = token;
  stack = await startTestStack({
    slack: {
      channel,
      approvers: [approver, 'U0SECOND'],
      apiUrl: slack.apiUrl,
      signingSecretEnv: 'CUTOVER_E2E_SLACK_SIGNING_SECRET',
      botTokenEnv: 'CUTOVER_E2E_SLACK_BOT_TOKEN',
      reminderInterval: '2s',
    },
  });
});
afterAll(async () => {
  await stack?.close();
  await slack?.close();
});

async function post(path: '/slack/interactivity' | '/slack/commands', init: RequestInit, app = stack.app) {
  const response = await app.request(path, init);
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}
const press = (user: string, actionId: string, deploymentId: string, options: SignedOptions = {}, responseUrl?: string) =>
  signedForm(secret, buttonPayload(user, actionId, deploymentId, responseUrl), options);

async function unchanged(id: string) {
  const status = (await stack.api('GET', `/v1/deployments/${id}`)).body;
  expect(status.phase).toBe('awaiting-verification');
  expect(status.decision).toBeNull();
  expect(status.actions).toEqual(['complete', 'reset']);
}

/** The message the deployment workflow itself posted when it began awaiting verification. */
async function awaitingMessage(id: string): Promise<{ ref: SlackMessageRef; buttons: Record<string, string> }> {
  const deadline = Date.now() + 20_000;
  let call: (typeof slack.calls)[number] | undefined;
  while (!call && Date.now() < deadline) {
    call = slack.calls.find((c) => c.method === 'chat.postMessage' && !c.body.thread_ts && JSON.stringify(c.body.blocks).includes(id));
    if (!call) await new Promise((r) => setTimeout(r, 100));
  }
  expect(call, `the workflow posted no awaiting-verification message for ${id}`).toBeDefined();
  expect(call!.authorization).toBe(`Bearer ${token}`);
  const elements = call!.body.blocks.find((b: any) => b.type === 'actions').elements as Array<{ action_id: string; value: string }>;
  const ref = { channel: call!.body.channel as string, ts: call!.response.ts as string };
  return { ref, buttons: Object.fromEntries(elements.map((e) => [e.action_id, e.value])) };
}

/** The workflow's own update of its message once the deployment ended. */
async function outcomeUpdate(ref: SlackMessageRef) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const update = slack.calls.find((c) => c.method === 'chat.update' && c.body.ts === ref.ts);
    if (update) return update;
    if (Date.now() > deadline) throw new Error(`the workflow did not update message ${ref.ts}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Slack on real deployments', () => {
  test('v1: the Complete button of the message completes the deployment, and the message says who did', async () => {
    const v1 = await stack.deploy('examples/demo-app/v1');
    await stack.waitForPhase(v1, ['awaiting-verification']);
    const { ref, buttons } = await awaitingMessage(v1);
    expect(buttons.cutover_complete).toBe(v1);
    // Nobody answers for a while: a reminder follows in the message's thread.
    const reminderDeadline = Date.now() + 15_000;
    while (!slack.calls.some((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ref.ts) && Date.now() < reminderDeadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(slack.calls.filter((c) => c.method === 'chat.postMessage' && c.body.thread_ts === ref.ts).length).toBeGreaterThan(0);

    const completePress = press(approver, 'cutover_complete', buttons.cutover_complete!, {}, slack.hookUrl('v1'));
    const r = await post('/slack/interactivity', completePress);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ response_type: 'ephemeral', text: `Complete accepted for deployment \`${v1}\`: it is being completed.` });
    const done = await stack.waitForPhase(v1, ['completed']);
    expect(done.decision).toMatchObject({ action: 'complete', requestedBy: `slack:${approver}` });

    // The same signed press, replayed to another API process (which never saw it): answered the same, done once.
    const otherApi = createApp(createApiDeps(stack.config, stack.client, stack.env));
    expect(await post('/slack/interactivity', completePress, otherApi)).toEqual(r);
    expect((await stack.api('GET', `/v1/deployments/${v1}/log`)).text.match(/Complete requested/g)).toHaveLength(1);

    const update = await outcomeUpdate(ref);
    expect(update.method).toBe('chat.update');
    expect(update.body).toMatchObject({ channel: ref.channel, ts: ref.ts });
    expect(JSON.stringify(update.body.blocks)).toContain(`*Completed* by <@${approver}>: public traffic is on 1.0.0.`);
    expect(update.body.blocks.some((b: any) => b.type === 'actions')).toBe(false);
  });

  test('v2: refusals change nothing, then Reset with database rolls code and database back', async () => {
    const v2 = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(v2, ['awaiting-verification']);
    const { ref } = await awaitingMessage(v2);
    const authorColumn = () => stack.sql(`select 1 from information_schema.columns where table_name = 'notes' and column_name = 'author'`);
    expect(await authorColumn()).toHaveLength(1);

    // A wrong signature.
    const forged = await post('/slack/interactivity', press(approver, 'cutover_complete', v2, { signature: `v0=${'a'.repeat(64)}` }));
    expect(forged.status).toBe(401);
    expect(forged.body.error.message).toBe('Slack request refused: invalid signature');
    // Signed with another secret.
    expect((await post('/slack/interactivity', press(approver, 'cutover_complete', v2, { secret: 'not-the-secret' }))).status).toBe(401);
    // An old timestamp, correctly signed for it.
    const old = await post(
      '/slack/interactivity',
      press(approver, 'cutover_complete', v2, { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 }),
    );
    expect(old.status).toBe(401);
    expect(old.body.error.message).toBe('Slack request refused: request timestamp is older than 5 minutes');
    // A body altered after signing.
    const altered = press(stranger, 'cutover_complete', v2);
    const headers = altered.headers as Record<string, string>;
    const tampered = { ...altered, body: new URLSearchParams(buttonPayload(approver, 'cutover_complete', v2)).toString() };
    expect(headers['x-slack-signature']).toBe(signSlackRequest(secret, headers['x-slack-request-timestamp']!, altered.body as string));
    expect((await post('/slack/interactivity', tampered)).status).toBe(401);
    await unchanged(v2);

    // A user who is not an approver: Slack wants 200 and an ephemeral message.
    const notApprover = press(stranger, 'cutover_complete', v2, {}, slack.hookUrl('stranger'));
    const refused = await post('/slack/interactivity', notApprover);
    const refusal = 'Only approvers can complete a deployment; nothing was changed.';
    expect(refused).toEqual({ status: 200, body: { response_type: 'ephemeral', text: refusal } });
    await expect.poll(() => slack.hooks.some((h) => h.path === '/hooks/stranger' && h.body.text.startsWith('Only approvers'))).toBe(true);
    const strangerCommand = await post('/slack/commands', signedForm(secret, commandForm(stranger, `reset ${v2} database`)));
    expect(strangerCommand.body.text).toBe('Only approvers can reset a deployment; nothing was changed.');
    // The same signed request again: a replay.
    const replayed = await post('/slack/interactivity', notApprover);
    expect(replayed.status).toBe(401);
    expect(replayed.body.error.message).toBe('Slack request refused: replayed request');
    await unchanged(v2);

    // Anyone may ask for the status.
    const status = await post('/slack/commands', signedForm(secret, commandForm(stranger, `status ${stack.environment}`)));
    expect(status.status).toBe(200);
    expect(status.body.text).toBe(
      `Deployment \`${v2}\` of demo-app 2.0.0 (previous: 1.0.0) to ${stack.environment}, mode readonly, ` +
        'is *awaiting-verification*. Available now: Complete, Reset.',
    );

    // Reset with database, by an approver: the migration's column is gone again.
    const resetPress = press(approver, 'cutover_reset_database', v2, {}, slack.hookUrl('reset'));
    const reset = await post('/slack/interactivity', resetPress);
    expect(reset.status).toBe(200);
    expect(reset.body.text).toBe(`Reset (roll back code and database) accepted for deployment \`${v2}\`: it is being reset.`);
    const done = await stack.waitForPhase(v2, ['reset']);
    expect(done.decision).toMatchObject({ action: 'reset', rollbackDatabase: true, requestedBy: `slack:${approver}` });
    expect(await authorColumn()).toHaveLength(0);
    const live = await fetch(`${stack.publicUrl()}/notes`, { headers: { accept: 'application/json' } });
    expect(live.headers.get('x-app-version')).toBe('1.0.0');

    // The reset press again is a replay (and another API process answers it as the first did); a fresh Complete is
    // refused by name of the state; nothing runs any more.
    expect((await post('/slack/interactivity', resetPress)).status).toBe(401);
    expect(await post('/slack/interactivity', resetPress, createApp(createApiDeps(stack.config, stack.client, stack.env)))).toEqual(reset);
    const late = await post('/slack/interactivity', press(approver, 'cutover_complete', v2));
    expect(late.body.text).toBe('Complete is not available: the deployment is reset; nothing was changed.');
    const idle = await post('/slack/commands', signedForm(secret, commandForm(approver, `status ${stack.environment}`)));
    expect(idle.body.text).toBe(`No deployment is running in ${stack.environment}. The last one, \`${v2}\`, ended reset.`);

    expect(JSON.stringify((await outcomeUpdate(ref)).body.blocks)).toContain(
      `*Reset* by <@${approver}>: code and database rolled back; public traffic is on 1.0.0.`,
    );
  });

  test('v2 again: `/cutover complete <deployment-id>` by another approver completes that deployment', async () => {
    const v2 = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(v2, ['awaiting-verification']);
    const byEnvironment = await post('/slack/commands', signedForm(secret, commandForm('U0SECOND', `complete ${stack.environment}`)));
    expect(byEnvironment.body.text).toMatch(/takes a deployment id, not an environment/);
    await unchanged(v2);
    const r = await post('/slack/commands', signedForm(secret, commandForm('U0SECOND', `complete ${v2}`)));
    expect(r).toEqual({
      status: 200,
      body: { response_type: 'ephemeral', text: `Complete accepted for deployment \`${v2}\`: it is being completed.` },
    });
    const done = await stack.waitForPhase(v2, ['completed']);
    expect(done.decision).toMatchObject({ action: 'complete', requestedBy: 'slack:U0SECOND' });
    const live = await fetch(`${stack.publicUrl()}/notes`, { headers: { accept: 'application/json' } });
    expect(live.headers.get('x-app-version')).toBe('2.0.0');
  });
});
