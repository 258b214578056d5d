import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { createSlackActivities } from '../../src/slack/activities.js';
import type { SlackNotice } from '../../src/slack/contract.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { approver, channel, deploymentStatus, slackConfig } from './fixtures.js';

const token = 'xoxb-test-token-1234';
const env = { TEST_SLACK_BOT_TOKEN: token };
let slack: FakeSlack;
beforeAll(async () => {
  slack = await startFakeSlack();
});
afterAll(async () => {
  await slack?.close();
});
beforeEach(() => {
  slack.calls.length = 0;
});

const notice = (overrides: Partial<SlackNotice> = {}): SlackNotice => ({
  event: 'awaiting-verification',
  status: deploymentStatus(),
  previewUrls: { web: 'http://127.0.0.1:8091/' },
  message: null,
  ...overrides,
});
const activities = (options: Parameters<typeof slackConfig>[0] = {}, environment: NodeJS.ProcessEnv = env) =>
  createSlackActivities({ config: slackConfig({ apiUrl: slack.apiUrl, ...options }), env: environment });

async function failureOf(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('when Slack is not configured', () => {
  test('no slack section: nothing is sent', async () => {
    expect(await activities({ topLevel: false }).notifySlack(notice())).toBeNull();
    expect(slack.calls).toEqual([]);
  });

  test('an environment without a channel: nothing is sent', async () => {
    expect(await activities({ shopSlack: false }).notifySlack(notice())).toBeNull();
    expect(await activities().notifySlack(notice({ status: deploymentStatus({ environment: 'quiet' }) }))).toBeNull();
    expect(slack.calls).toEqual([]);
  });

  test('a missing bot token is a misconfiguration that names the variable, not a retry', async () => {
    const failure = await failureOf(activities({}, {}).notifySlack(notice()));
    expect(failure.type).toBe('slack-misconfigured');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('TEST_SLACK_BOT_TOKEN');
  });
});

describe('outbound messages', () => {
  test('awaiting verification: a Block Kit message with the buttons, in the environment channel, with the bot token', async () => {
    const ref = await activities().notifySlack(notice());
    expect(slack.calls).toHaveLength(1);
    const [call] = slack.calls;
    expect(call!.method).toBe('chat.postMessage');
    expect(call!.authorization).toBe(`Bearer ${token}`);
    expect(call!.body.channel).toBe(channel);
    expect(call!.body.text).toContain('awaits verification');
    expect(ref).toEqual({ channel, ts: expect.stringMatching(/^\d+\.\d+$/) });
    const buttons = call!.body.blocks.find((b: any) => b.type === 'actions').elements;
    expect(buttons.map((b: any) => [b.action_id, b.value])).toEqual([
      ['cutover_complete', 'shop-20250101-120000-ab12'],
      ['cutover_reset', 'shop-20250101-120000-ab12'],
      ['cutover_reset_database', 'shop-20250101-120000-ab12'],
    ]);
    expect(JSON.stringify(call!.body.blocks)).toContain('http://127.0.0.1:8091/');
  });

  test('reminder: posted in the thread of the original message, which stays the reference', async () => {
    const original = { channel, ts: '1700000000.000100' };
    const ref = await activities().notifySlack(notice({ event: 'reminder', message: original }));
    expect(ref).toEqual(original);
    expect(slack.calls).toHaveLength(1);
    expect(slack.calls[0]!.method).toBe('chat.postMessage');
    expect(slack.calls[0]!.body.thread_ts).toBe(original.ts);
    expect(slack.calls[0]!.body.text).toContain('still awaits verification since 2025-01-01T12:01:00.000Z');
    // Reset automatically after the environment's verificationTimeout (2h).
    expect(JSON.stringify(slack.calls[0]!.body.blocks)).toContain(`<!date^${Date.parse('2025-01-01T14:01:00.000Z') / 1000}^`);
  });

  test('completed: the original message is updated, without buttons, naming who completed it', async () => {
    const original = { channel, ts: '1700000000.000100' };
    const status = deploymentStatus({
      phase: 'completed',
      actions: [],
      decision: { action: 'complete', rollbackDatabase: false, requestedBy: `slack:${approver}` },
    });
    expect(await activities().notifySlack(notice({ event: 'completed', status, message: original }))).toEqual(original);
    const [call] = slack.calls;
    expect(call!.method).toBe('chat.update');
    expect(call!.body).toMatchObject({ channel, ts: original.ts });
    expect(call!.body.blocks.some((b: any) => b.type === 'actions')).toBe(false);
    expect(JSON.stringify(call!.body.blocks)).toContain(`*Completed* by <@${approver}>`);
  });

  test('failed before any message: a new message with the failure class and remediation', async () => {
    const status = deploymentStatus({
      phase: 'failed',
      failure: {
        class: 'warmup-failed',
        message: 'no HTTP 200 on /healthz within 30s',
        remediation: 'Check the startup logs.',
        site: 'web',
      },
    });
    const ref = await activities().notifySlack(notice({ event: 'failed', status }));
    expect(ref?.channel).toBe(channel);
    const [call] = slack.calls;
    expect(call!.method).toBe('chat.postMessage');
    const all = JSON.stringify(call!.body.blocks);
    expect(all).toContain('Site warmup failed* (`warmup-failed`) on site web');
    expect(all).toContain('no HTTP 200 on /healthz within 30s');
    expect(all).toContain('*What to do:* Check the startup logs.');
  });

  test('an update of a deleted message posts the outcome anew', async () => {
    slack.failNext('message_not_found');
    const status = deploymentStatus({
      phase: 'reset',
      decision: { action: 'reset', rollbackDatabase: false, requestedBy: `slack:${approver}` },
    });
    const ref = await activities().notifySlack(notice({ event: 'reset', status, message: { channel, ts: '1.2' } }));
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.update', 'chat.postMessage']);
    expect(ref?.ts).not.toBe('1.2');
  });
});

describe('Slack errors', () => {
  test('channel_not_found is a non-retryable misconfiguration naming the channel and the setting', async () => {
    slack.failNext('channel_not_found');
    const failure = await failureOf(activities().notifySlack(notice()));
    expect(failure.type).toBe('slack-misconfigured');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(`Slack has no channel ${channel}`);
    expect(failure.message).toContain('environments.shop.slack.channel');
    expect(failure.message).not.toContain(token);
  });

  test.each(['invalid_auth', 'not_in_channel'])('%s is a non-retryable misconfiguration', async (error) => {
    slack.failNext(error);
    const failure = await failureOf(activities().notifySlack(notice()));
    expect(failure.type).toBe('slack-misconfigured');
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain(error);
    expect(failure.message).not.toContain(token);
  });

  test('other ok:false answers are thrown for Temporal to retry', async () => {
    slack.failNext('internal_error');
    const failure = await failureOf(activities().notifySlack(notice({ event: 'completed', message: { channel, ts: '1.2' } })));
    expect(failure.nonRetryable).toBe(false);
    expect(failure.message).toBe('Slack chat.update failed: internal_error');
    expect(slack.calls).toHaveLength(1);
  });
});
