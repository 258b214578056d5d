/**
 * Analysis during verification: what is checked on the preview and the evidence it gives.
 * Side-effect free, like definitions.ts: the workflows, the activity, the API and Slack import it.
 */

/** Synthetic requests to the preview address of each zdd site. */
export interface CheckSpec {
  path: string;
  /** The status every answer must have. */
  expectStatus: number;
  /** A slower answer counts as a failure; null: only the status counts. */
  maxLatencyMs: number | null;
  requests: number;
  intervalMs: number;
  /** Failures tolerated; one more fails the check. */
  failureLimit: number;
}

/** A PromQL query that returns one number, sampled over the interval; a sample above `max` is a breach. */
export interface MetricSpec {
  name: string;
  prometheusUrl: string;
  query: string;
  max: number;
  samples: number;
  intervalMs: number;
  /** Breaches tolerated; one more fails the metric. */
  failureLimit: number;
  /**
   * The router's own counts of the preview's real traffic over each interval instead of a query (prometheusUrl is then
   * empty): `error-rate` (5xx + proxy errors) / requests, `p99` in milliseconds. An interval without traffic gives no sample.
   */
  builtin?: 'error-rate' | 'p99';
}

export interface AnalysisSpec {
  checks: CheckSpec[];
  metrics: MetricSpec[];
  /** A failed analysis Resets code only unless this says the database too. */
  rollbackDatabase: boolean;
}

export type AnalysisVerdict = 'pass' | 'fail' | 'inconclusive';

/** What a series of requests gave. */
export interface RequestStats {
  requests: number;
  failures: number;
  /** failures / requests, 0..1. */
  errorRate: number;
  /** Nearest-rank 99th percentile of the answered requests; null when none answered. */
  p99Ms: number | null;
}

export interface CheckEvidence extends RequestStats {
  site: string;
  path: string;
  verdict: AnalysisVerdict;
  /** Why, in words: "4 of 20 failed (limit 1): 4 × HTTP 500". */
  reason: string;
  /** The same requests to the public address (the live version), for comparison only; null when nothing live answers there. */
  live: RequestStats | null;
}

export interface MetricEvidence {
  name: string;
  query: string;
  max: number;
  /** One value per sample; null when Prometheus gave no number. */
  values: Array<number | null>;
  breaches: number;
  verdict: AnalysisVerdict;
  reason: string;
  /** Builtin metrics: the preview's real traffic over every sample, and the live version's over the same time. */
  preview?: RequestStats;
  live?: RequestStats | null;
}

export interface AnalysisEvidence {
  verdict: AnalysisVerdict;
  summary: string;
  checks: CheckEvidence[];
  metrics: MetricEvidence[];
}

/** The analysis as the deployment's status shows it. */
export interface AnalysisStatus extends Omit<AnalysisEvidence, 'verdict'> {
  /** stopped: a person decided first, so its result does not count. */
  state: 'running' | 'finished' | 'stopped';
  /** null while it runs or once stopped. */
  verdict: AnalysisVerdict | null;
  startedAt: string;
  endedAt: string | null;
}

export interface AnalyzePreviewInput {
  environment: string;
  /** The zdd sites whose preview addresses get the checks. */
  sites: string[];
  spec: AnalysisSpec;
  /** Send the same requests to the public address too (not when it shows a maintenance page or serves nothing). */
  compareWithLive: boolean;
}

/** Served by the host agent, where the preview addresses answer. */
export interface AnalysisActivities {
  analyzePreview(input: AnalyzePreviewInput): Promise<AnalysisEvidence>;
}

/** How long the analysis takes at most: the longest check or metric, with each request's time allowed. */
export function analysisDurationMs(spec: AnalysisSpec): number {
  const checks = spec.checks.map((c) => c.requests * (c.intervalMs + requestTimeoutMs(c)));
  const metrics = spec.metrics.map((m) => m.samples * (m.intervalMs + PROMETHEUS_TIMEOUT_MS));
  return Math.max(0, ...checks, ...metrics);
}

/** A request slower than the latency limit has failed already; without a limit it gets 10 s. */
export const requestTimeoutMs = (check: Pick<CheckSpec, 'maxLatencyMs'>) => check.maxLatencyMs ?? 10_000;
export const PROMETHEUS_TIMEOUT_MS = 5_000;

/** Any failure fails it; else anything inconclusive makes it inconclusive. */
export function overallVerdict(verdicts: AnalysisVerdict[]): AnalysisVerdict {
  if (verdicts.includes('fail')) return 'fail';
  if (verdicts.includes('inconclusive')) return 'inconclusive';
  return 'pass';
}

/** "20 requests, 4 failed (20%), p99 3 ms" */
export function describeStats(stats: RequestStats): string {
  const p99 = stats.p99Ms === null ? 'no answer' : `p99 ${stats.p99Ms} ms`;
  return `${stats.requests} requests, ${stats.failures} failed (${percent(stats.errorRate)}), ${p99}`;
}

export function percent(rate: number): string {
  return `${Math.round(rate * 1000) / 10}%`;
}

/** One line per check and metric, as the log and Slack show them. */
export function evidenceLines(evidence: Pick<AnalysisEvidence, 'checks' | 'metrics'>): string[] {
  return [
    ...evidence.checks.map(
      (c) =>
        `${c.verdict}: site ${c.site} GET ${c.path} on the preview: ${describeStats(c)}` +
        `${c.live ? `; live: ${describeStats(c.live)}` : ''} (${c.reason})`,
    ),
    ...evidence.metrics.map(
      (m) =>
        `${m.verdict}: metric ${m.name} (max ${m.max}): ${m.reason}` +
        `${m.preview ? `; preview traffic: ${describeStats(m.preview)}` : ''}${m.live ? `; live: ${describeStats(m.live)}` : ''}`,
    ),
  ];
}
