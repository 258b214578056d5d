/**
 * Analysis during verification: checks on the preview while people verify it. A failed analysis Resets the
 * deployment by itself; an inconclusive one leaves the decision to people; none ever Completes.
 */
import { CancellationScope, isCancellation, type ActivityOptions } from '@temporalio/workflow';
import { analysisDurationMs, evidenceLines, type AnalysisEvidence, type AnalysisSpec } from '../analysis-definitions.js';
import { decide } from '../decisions.js';
import { classify } from '../failure-classes.js';
import type { DeploymentContext } from './context.js';
import { announce } from './notify.js';

/** Deployments that started before analysis existed replay without its commands. */
export const ANALYSIS_DURING_VERIFICATION = 'analysis-during-verification';

/** The request's analysis, else the environment's; null when there is none or the request turned it off. */
export function analysisFor({ request, plan, record }: DeploymentContext): AnalysisSpec | null {
  if (request.analysis === false) {
    if (plan.analysis) record.log('Analysis is turned off for this deployment by its request: only people decide');
    return null;
  }
  return request.analysis ?? plan.analysis ?? null;
}

export interface RunningAnalysis {
  /** Sends the checks; nothing happens when a person decided already. */
  start(): void;
  /** A person (or the verification timeout) decided: the analysis stops and its result no longer counts. */
  stop(): void;
}

/** Shows the analysis as running at once (so the approval message says so); start() sends it on its way. */
export function prepareAnalysis(ctx: DeploymentContext, spec: AnalysisSpec): RunningAnalysis {
  const { request, plan, record } = ctx;
  const sites = plan.sites.filter((s) => s.role === 'zdd').map((s) => s.name);
  const startedAt = record.at();
  const what = describeSpec(spec, sites);
  record.analysis = { state: 'running', verdict: null, summary: what, startedAt, endedAt: null, checks: [], metrics: [] };
  const reset = spec.rollbackDatabase ? 'code and database' : 'code only';
  record.log(`Analysis: ${what}. A failed analysis Resets the deployment (${reset}) by itself; it never Completes it.`);
  const scope = new CancellationScope();
  return {
    start() {
      if (record.decision) return stopped(ctx);
      const options = {
        summary: `Analyse the preview of ${sites.join(', ') || request.environment}`,
        startToCloseTimeout: analysisDurationMs(spec) + Math.max(plan.timeouts.stepMs, 30_000),
      } as ActivityOptions;
      const input = {
        environment: request.environment,
        sites,
        spec,
        // The live version answers on the public address only while no maintenance page is shown there.
        compareWithLive: record.previousPackage !== null && request.mode !== 'maintenance-page',
      };
      const evidence = scope.run(() => ctx.activities.analysis.analyzePreview.executeWithOptions(options, [input]));
      void conclude(ctx, spec, startedAt, evidence);
    },
    stop() {
      scope.cancel();
    },
  };
}

async function conclude(ctx: DeploymentContext, spec: AnalysisSpec, startedAt: string, running: Promise<AnalysisEvidence>) {
  const { record } = ctx;
  let evidence: AnalysisEvidence;
  try {
    evidence = await running;
  } catch (error) {
    if (isCancellation(error)) return stopped(ctx);
    evidence = { verdict: 'inconclusive', summary: `the analysis could not run: ${classify(error).message}`, checks: [], metrics: [] };
  }
  record.analysis = { ...evidence, state: 'finished', startedAt, endedAt: record.at() };
  const level = evidence.verdict === 'pass' ? 'info' : evidence.verdict === 'fail' ? 'error' : 'warn';
  record.log(`Analysis ${verdictWords[evidence.verdict]}: ${evidence.summary}`, level);
  for (const line of evidenceLines(evidence)) record.log(`Analysis evidence: ${line}`, level);
  if (record.decision || record.phase !== 'awaiting-verification') {
    record.log('The deployment was decided before the analysis finished: its result changes nothing');
    return;
  }
  if (evidence.verdict === 'fail') {
    decide(record, { action: 'reset', rollbackDatabase: spec.rollbackDatabase, reason: `analysis failed: ${evidence.summary}` });
    return;
  }
  record.log(
    evidence.verdict === 'pass'
      ? 'The deployment still waits for a person to Complete or Reset it (a deployment is never promoted automatically)'
      : 'An inconclusive analysis decides nothing: the deployment waits for a person to Complete or Reset it',
    level,
  );
  // The approval message gets the evidence.
  await announce(ctx, 'analysis');
}

function stopped({ record }: DeploymentContext) {
  if (record.analysis?.state !== 'running') return;
  record.analysis = { ...record.analysis, state: 'stopped', summary: 'stopped: the deployment was decided first', endedAt: record.at() };
  record.log('Analysis stopped: the deployment was decided before it finished, so its result does not count');
}

const verdictWords = { pass: 'passed', fail: 'failed', inconclusive: 'inconclusive' } as const;

/** "GET /notes on the preview of web (20 requests every 500 ms, 0 failures tolerated); metric error-rate at most 0.05 (...)" */
function describeSpec(spec: AnalysisSpec, sites: string[]): string {
  const on = sites.length > 0 ? `on the preview of ${sites.join(', ')}` : 'skipped: no zdd site has a preview to check';
  const checks = spec.checks.map(
    (c) =>
      `GET ${c.path} ${on} (${c.requests} requests every ${c.intervalMs} ms, HTTP ${c.expectStatus}` +
      `${c.maxLatencyMs === null ? '' : ` within ${c.maxLatencyMs} ms`}, ${c.failureLimit} failures tolerated)`,
  );
  const metrics = spec.metrics.map(
    (m) => `metric ${m.name} at most ${m.max} (${m.samples} samples every ${m.intervalMs} ms, ${m.failureLimit} breaches tolerated)`,
  );
  return [...checks, ...metrics].join('; ');
}
