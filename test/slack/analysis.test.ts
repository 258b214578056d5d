/** The analysis' evidence in Slack: the approval message shows it beside the buttons, and replaces itself when it ends. */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createSlackActivities } from '../../src/slack/activities.js';
import { awaitingVerificationMessage, outcomeMessage } from '../../src/slack/blocks.js';
import type { AnalysisStatus } from '../../src/workflows/analysis-definitions.js';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';
import { approver, channel, deploymentStatus, slackConfig } from './fixtures.js';

const failed: AnalysisStatus = {
  state: 'finished',
  verdict: 'fail',
  summary: '1 of 1 checks and metrics failed: web GET /notes: 4 of 20 failed (20%, limit 1): 4 × HTTP 500',
  startedAt: '2025-01-01T12:01:00.000Z',
  endedAt: '2025-01-01T12:01:03.000Z',
  checks: [
    {
      site: 'web',
      path: '/notes',
      requests: 20,
      failures: 4,
      errorRate: 0.2,
      p99Ms: 12,
      verdict: 'fail',
      reason: '4 of 20 failed (20%, limit 1): 4 × HTTP 500',
      live: { requests: 20, failures: 0, errorRate: 0, p99Ms: 8 },
    },
  ],
  metrics: [
    {
      name: 'p99 <latency>',
      query: 'x',
      max: 0.5,
      values: [0.1],
      breaches: 0,
      verdict: 'pass',
      reason: '0 of 1 samples above 0.5 (limit 0): 0.1',
    },
  ],
};
const previews = { web: 'http://127.0.0.1:8091/' };
const analysisText = (blocks: unknown[]) => JSON.stringify(blocks.filter((b) => JSON.stringify(b).includes('Analysis')));

describe('analysis evidence in Slack messages', () => {
  test("the approval message shows the preview's requests, error rate and p99 next to the live version's", () => {
    const message = awaitingVerificationMessage(deploymentStatus({ analysis: failed }), previews, [approver]);
    const text = analysisText(message.blocks);
    expect(text).toContain(':rotating_light: *Analysis failed*');
    expect(text).toContain(
      'web `GET /notes`: fail; preview 20 requests, 4 failed (20%), p99 12 ms; live 20 requests, 0 failed (0%), p99 8 ms',
    );
    expect(text).toContain('metric p99 &lt;latency&gt;: pass');
    // The buttons stay: a person still decides.
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(true);
  });

  test('while it runs the message says so; without an analysis it says nothing about one', () => {
    const running: AnalysisStatus = { ...failed, state: 'running', verdict: null, checks: [], metrics: [], endedAt: null };
    expect(analysisText(awaitingVerificationMessage(deploymentStatus({ analysis: running }), previews, [approver]).blocks)).toContain(
      ':mag: *Analysis running*',
    );
    expect(analysisText(awaitingVerificationMessage(deploymentStatus(), previews, [approver]).blocks)).toBe('[]');
  });

  test('an automatic Reset says why, with the evidence', () => {
    const status = deploymentStatus({
      phase: 'reset',
      actions: [],
      analysis: failed,
      decision: { action: 'reset', rollbackDatabase: false, reason: `analysis failed: ${failed.summary}` },
    });
    const all = JSON.stringify(outcomeMessage(status, 'reset').blocks);
    expect(all).toContain('*Reset* automatically (analysis failed: 1 of 1 checks and metrics failed');
    expect(all).toContain('preview 20 requests, 4 failed (20%), p99 12 ms');
  });
});

describe('the analysis event', () => {
  let slack: FakeSlack;
  beforeAll(async () => {
    slack = await startFakeSlack();
  });
  afterAll(async () => {
    await slack?.close();
  });

  test('updates the approval message in place, buttons and evidence; posts anew when there is none', async () => {
    const activities = createSlackActivities({
      config: slackConfig({ apiUrl: slack.apiUrl }),
      env: { TEST_SLACK_BOT_TOKEN: 'xoxb-test' },
    });
    const notice = { event: 'analysis' as const, status: deploymentStatus({ analysis: failed }), previewUrls: previews };
    const first = await activities.notifySlack({ ...notice, message: null });
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage']);
    expect(await activities.notifySlack({ ...notice, message: first })).toEqual(first);
    const update = slack.calls[1]!;
    expect(update.method).toBe('chat.update');
    expect(update.body).toMatchObject({ channel, ts: first!.ts });
    expect(JSON.stringify(update.body.blocks)).toContain('Analysis failed');
    expect(update.body.blocks.some((b: any) => b.type === 'actions')).toBe(true);
  });
});
