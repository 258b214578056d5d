/** Analysis during verification, in the workflow: real workflow code and Temporal server, a fake platform. */
import { afterEach, describe, expect, test } from 'vitest';
import type { AnalysisEvidence, AnalysisSpec } from '../../src/workflows/analysis-definitions.js';
import { completeUpdate, logQuery, resetUpdate, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { startDeployment, v1, waitForStatus, type DeploymentHandle } from './deployments.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const spec: AnalysisSpec = {
  checks: [{ path: '/notes', expectStatus: 200, maxLatencyMs: null, requests: 20, intervalMs: 100, failureLimit: 1 }],
  metrics: [],
  rollbackDatabase: false,
};

const stats = { requests: 20, p99Ms: 4 };
const failed: AnalysisEvidence = {
  verdict: 'fail',
  summary: '1 of 1 checks and metrics failed: web GET /notes: 4 of 20 failed (20%, limit 1): 4 × HTTP 500',
  checks: [
    {
      site: 'web',
      path: '/notes',
      ...stats,
      failures: 4,
      errorRate: 0.2,
      verdict: 'fail',
      reason: '4 of 20 failed (20%, limit 1): 4 × HTTP 500',
      live: { ...stats, failures: 0, errorRate: 0 },
    },
  ],
  metrics: [],
};
const inconclusive: AnalysisEvidence = {
  verdict: 'inconclusive',
  summary: '1 of 1 checks and metrics inconclusive: metric error-rate: Prometheus at http://127.0.0.1:1 unreachable',
  checks: [],
  metrics: [
    {
      name: 'error-rate',
      query: 'vector(0)',
      max: 0.05,
      values: [null],
      breaches: 0,
      verdict: 'inconclusive',
      reason: '0 of 1 samples above 0.05 (limit 0): –; 1 × Prometheus at http://127.0.0.1:1 unreachable (connection refused)',
    },
  ],
};

const log = async (handle: DeploymentHandle) => (await handle.query(logQuery, {})).lines.map((l) => l.message).join('\n');

describe('analysis during verification', () => {
  test('a failed analysis Resets the deployment by itself, code only, with the evidence in the status, the log and Slack', async () => {
    h = await startHarness({ analysis: spec, slackReminderMs: 60_000 });
    h.fake.goLive(v1);
    h.fake.analysis.evidence = failed;
    const handle = await startDeployment(h, 'fails');
    const status = (await handle.result()) as DeploymentStatus;

    expect(status.phase).toBe('reset');
    expect(status.decision).toMatchObject({ action: 'reset', rollbackDatabase: false, reason: `analysis failed: ${failed.summary}` });
    expect(status.decision?.requestedBy).toBeUndefined();
    expect(status.analysis).toMatchObject({ state: 'finished', verdict: 'fail', checks: failed.checks });
    expect(h.fake.routes.web!.live).toMatchObject({ kind: 'slot', package: { version: '1.0.0' } });
    expect(h.fake.calls.some((c) => c.startsWith('restoreDatabase'))).toBe(false);
    // Checks go to the zdd sites' previews, compared with the live version on the public address.
    const call = h.fake.calls.find((c) => c.startsWith('analyzePreview '))!;
    expect(JSON.parse(call.slice('analyzePreview '.length))).toMatchObject({ sites: ['web'], compareWithLive: true, spec });
    const text = await log(handle);
    expect(text).toContain('Analysis failed: ');
    expect(text).toContain('Analysis evidence: fail: site web GET /notes on the preview: 20 requests, 4 failed (20%), p99 4 ms');
    expect(text).toContain('Reset (roll back code only) requested: analysis failed: ');
    // The approval message was replaced by the outcome, which carries the evidence.
    expect(h.fake.slackEvents).toEqual(['awaiting-verification', 'reset']);
  }, 30_000);

  test('an inconclusive analysis decides nothing: the deployment waits for a person', async () => {
    h = await startHarness({ analysis: spec, slackReminderMs: 60_000 });
    h.fake.goLive(v1);
    h.fake.analysis.evidence = inconclusive;
    const handle = await startDeployment(h, 'inconclusive');
    const status = await waitForStatus(handle, 'a finished analysis', (s) => s.analysis?.state === 'finished');
    expect(status.analysis?.verdict).toBe('inconclusive');
    expect(status.phase).toBe('awaiting-verification');
    expect(status.decision).toBeNull();
    expect(status.actions).toEqual(['complete', 'reset']);
    expect(await log(handle)).toContain('An inconclusive analysis decides nothing');
    // The approval message gets the evidence (after the awaiting-verification post).
    await waitForStatus(handle, 'the Slack update', () => h!.fake.slackEvents.includes('analysis'));
    expect(h.fake.slackEvents).toEqual(['awaiting-verification', 'analysis']);

    await handle.executeUpdate(resetUpdate, { args: [{ rollbackDatabase: false, requestedBy: 'ana' }] });
    expect(((await handle.result()) as DeploymentStatus).decision).toMatchObject({ action: 'reset', requestedBy: 'ana' });
  }, 30_000);

  test('an analysis that cannot run at all is inconclusive: the deployment waits for a person', async () => {
    h = await startHarness({ analysis: spec });
    h.fake.goLive(v1);
    h.fake.failWith('analyzePreview', 'invalid-input', 'Environment x has no site "web"');
    const handle = await startDeployment(h, 'cannot-run');
    const status = await waitForStatus(handle, 'a finished analysis', (s) => s.analysis?.state === 'finished');
    expect(status.analysis).toMatchObject({ verdict: 'inconclusive', summary: expect.stringMatching(/^the analysis could not run: /) });
    expect(status).toMatchObject({ phase: 'awaiting-verification', decision: null, actions: ['complete', 'reset'] });
    await handle.executeUpdate(completeUpdate, { args: [{}] });
    expect(((await handle.result()) as DeploymentStatus).phase).toBe('completed');
  }, 30_000);

  test('a person who decides first wins: the running analysis stops and its failure changes nothing', async () => {
    h = await startHarness({ analysis: spec });
    h.fake.goLive(v1);
    h.fake.analysis.evidence = failed;
    h.fake.analysis.delayMs = 60_000;
    const handle = await startDeployment(h, 'person-first');
    await waitForStatus(handle, 'the analysis running', (s) => s.analysis?.state === 'running');
    await waitForStatus(handle, 'the analysis activity', () => h!.fake.calls.some((c) => c.startsWith('analyzePreview ')));
    await handle.executeUpdate(completeUpdate, { args: [{ requestedBy: 'ana' }] });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.phase).toBe('completed');
    expect(status.decision).toMatchObject({ action: 'complete', requestedBy: 'ana' });
    expect(status.analysis).toMatchObject({ state: 'stopped', verdict: null });
    expect(h.fake.routes.web!.live).toMatchObject({ kind: 'slot', package: { version: '2.0.0' } });
    expect(await log(handle)).toContain('Analysis stopped: the deployment was decided before it finished');
    // The cancellation reaches the activity with its next heartbeat.
    const deadline = Date.now() + 10_000;
    while (!h.fake.analysis.cancelled && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(h.fake.analysis.cancelled).toBe(true);
  }, 30_000);

  test('a request that turns analysis off: no analysis runs, people decide', async () => {
    h = await startHarness({ analysis: spec });
    h.fake.goLive(v1);
    h.fake.analysis.evidence = failed;
    const handle = await startDeployment(h, 'off', { analysis: false });
    const status = await waitForStatus(handle, 'awaiting verification', (s) => s.phase === 'awaiting-verification');
    expect(status.analysis).toBeNull();
    expect(await log(handle)).toContain('Analysis is turned off for this deployment by its request');
    await handle.executeUpdate(completeUpdate, { args: [{}] });
    expect(((await handle.result()) as DeploymentStatus).phase).toBe('completed');
    expect(h.fake.calls.some((c) => c.startsWith('analyzePreview '))).toBe(false);
  }, 30_000);

  test("a request's own analysis replaces the environment's, and may roll back the database", async () => {
    h = await startHarness();
    h.fake.goLive(v1);
    h.fake.analysis.evidence = failed;
    const own: AnalysisSpec = { ...spec, rollbackDatabase: true };
    const handle = await startDeployment(h, 'own', { analysis: own });
    const status = (await handle.result()) as DeploymentStatus;
    expect(status.decision).toMatchObject({ action: 'reset', rollbackDatabase: true });
    expect(h.fake.calls.some((c) => c.startsWith('restoreDatabase'))).toBe(true);
  }, 30_000);
});
