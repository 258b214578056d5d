/**
 * The analysis activity: synthetic requests to each zdd site's preview address and Prometheus thresholds,
 * sampled over their interval. It runs on the host agent, beside the router whose preview address it calls.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { siteUrls } from '../config/addresses.js';
import { addStats, readTraffic, statsBetween, sumTraffic, type TrafficSeries } from './router-traffic.js';
import type { CutoverConfig } from '../config/schema.js';
import {
  overallVerdict,
  percent,
  PROMETHEUS_TIMEOUT_MS,
  requestTimeoutMs,
  type AnalysisActivities,
  type AnalysisEvidence,
  type AnalysisVerdict,
  type CheckEvidence,
  type CheckSpec,
  type MetricEvidence,
  type MetricSpec,
  type RequestStats,
} from '../workflows/analysis-definitions.js';

export interface AnalysisDeps {
  config: CutoverConfig;
  /** This host: only its environments are analysed here. */
  host: string;
}

/** What one synthetic request gave: its latency, and why it failed if it did. */
interface Attempt {
  latencyMs: number | null;
  failure: string | null;
}

export function createAnalysisActivities({ config, host }: AnalysisDeps): AnalysisActivities {
  return {
    async analyzePreview({ environment, sites, spec, compareWithLive }) {
      const env = config.environments[environment];
      if (!env) throw invalid(`Unknown environment ${JSON.stringify(environment)} on host ${host}`);
      if (env.host !== host) throw invalid(`Environment ${environment} runs on host ${env.host}, not on ${host}`);
      // The addresses come from this host's own configuration, never from the caller.
      const targets = sites.map((name) => {
        const site = env.sites.find((s) => s.name === name);
        if (!site) throw invalid(`Environment ${environment} has no site ${JSON.stringify(name)}`);
        return { name, ...siteUrls(env, site) };
      });
      const context = currentActivity();
      const signal = context?.cancellationSignal;
      // Heartbeats carry the progress, so the Web UI shows how far the analysis got.
      const progress = { requestsSent: 0, samplesTaken: 0 };
      const beat = () => context?.heartbeat(progress);
      const requestSent = () => {
        progress.requestsSent++;
        beat();
      };
      const sampleTaken = () => {
        progress.samplesTaken++;
        beat();
      };

      const checks = targets.flatMap((target) =>
        spec.checks.map(async (check): Promise<CheckEvidence> => {
          const preview = new URL(check.path.slice(1), target.previewUrl);
          const live = compareWithLive ? new URL(check.path.slice(1), target.publicUrl) : null;
          const [onPreview, onLive] = await Promise.all([
            series(preview, check, signal, requestSent),
            live ? series(live, check, signal, beat) : Promise.resolve(null),
          ]);
          return { site: target.name, path: check.path, ...judgeCheck(check, onPreview), live: onLive && stats(onLive) };
        }),
      );
      const metrics = spec.metrics.map((metric) =>
        metric.builtin
          ? sampleRouterMetric({ env, environment, sites, metric, signal, taken: sampleTaken })
          : sampleMetric(metric, signal, sampleTaken),
      );
      const evidence = { checks: await Promise.all(checks), metrics: await Promise.all(metrics) };
      return summarize(evidence);
    },
  };
}

/** `requests` GETs, `interval` apart; each one a failure when its status, its latency or the connection is wrong. */
async function series(url: URL, check: CheckSpec, signal: AbortSignal | undefined, sent: () => void): Promise<Attempt[]> {
  const attempts: Attempt[] = [];
  for (let i = 0; i < check.requests; i++) {
    if (i > 0) await sleep(check.intervalMs, undefined, { signal });
    attempts.push(await attempt(url, check, signal));
    sent();
  }
  return attempts;
}

async function attempt(url: URL, check: CheckSpec, signal: AbortSignal | undefined): Promise<Attempt> {
  const timeoutMs = requestTimeoutMs(check);
  const timeout = AbortSignal.timeout(timeoutMs);
  const started = performance.now();
  try {
    const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
    // The whole answer counts: a slow body is a slow page.
    await response.arrayBuffer();
    const latencyMs = Math.round(performance.now() - started);
    if (response.status !== check.expectStatus) return { latencyMs, failure: `HTTP ${response.status}` };
    if (check.maxLatencyMs !== null && latencyMs > check.maxLatencyMs)
      return { latencyMs, failure: `slower than ${check.maxLatencyMs} ms` };
    return { latencyMs, failure: null };
  } catch (error) {
    signal?.throwIfAborted();
    if (timeout.aborted) return { latencyMs: timeoutMs, failure: `no answer within ${timeoutMs} ms` };
    return { latencyMs: null, failure: `no answer (${describeFetchError(error)})` };
  }
}

function stats(attempts: Attempt[]): RequestStats {
  const failures = attempts.filter((a) => a.failure !== null).length;
  const latencies = attempts.flatMap((a) => (a.latencyMs === null ? [] : [a.latencyMs])).sort((a, b) => a - b);
  return {
    requests: attempts.length,
    failures,
    errorRate: attempts.length === 0 ? 0 : failures / attempts.length,
    // Nearest rank: the smallest latency at or above 99% of the answers.
    p99Ms: latencies.length === 0 ? null : latencies[Math.ceil(0.99 * latencies.length) - 1]!,
  };
}

function judgeCheck(check: CheckSpec, attempts: Attempt[]): RequestStats & { verdict: AnalysisVerdict; reason: string } {
  const result = stats(attempts);
  const counts = new Map<string, number>();
  for (const a of attempts) if (a.failure) counts.set(a.failure, (counts.get(a.failure) ?? 0) + 1);
  const why = [...counts].map(([failure, n]) => `${n} × ${failure}`).join(', ');
  const tally = `${result.failures} of ${result.requests} failed (${percent(result.errorRate)}, limit ${check.failureLimit})`;
  const verdict = result.failures > check.failureLimit ? 'fail' : 'pass';
  return { ...result, verdict, reason: why ? `${tally}: ${why}` : tally };
}

/** `samples` queries, one at the end of each interval: the window the new version has been up for. */
async function sampleMetric(metric: MetricSpec, signal: AbortSignal | undefined, taken: () => void): Promise<MetricEvidence> {
  const values: Array<number | null> = [];
  const problems = new Map<string, number>();
  for (let i = 0; i < metric.samples; i++) {
    await sleep(metric.intervalMs, undefined, { signal });
    const sample = await queryPrometheus(metric, signal);
    taken();
    values.push(sample.value);
    if (sample.problem) problems.set(sample.problem, (problems.get(sample.problem) ?? 0) + 1);
  }
  return judgeSamples(metric, values, problems);
}

/** Breaches above `max`; a missing sample could have been one, so only certain breaches fail and missing ones make it inconclusive. */
function judgeSamples(metric: MetricSpec, values: Array<number | null>, problems: Map<string, number>): MetricEvidence {
  const breaches = values.filter((v) => v !== null && v > metric.max).length;
  const missing = values.filter((v) => v === null).length;
  const shown = values.map((v) => (v === null ? '–' : String(round(v)))).join(', ');
  const tally = `${breaches} of ${values.length} samples above ${metric.max} (limit ${metric.failureLimit}): ${shown}`;
  const why = [...problems].map(([problem, n]) => `${n} × ${problem}`).join(', ');
  // A missing sample could have been a breach: only what is certain decides.
  const verdict: AnalysisVerdict =
    breaches > metric.failureLimit ? 'fail' : breaches + missing > metric.failureLimit ? 'inconclusive' : 'pass';
  return { name: metric.name, query: metric.query, max: metric.max, values, breaches, verdict, reason: why ? `${tally}; ${why}` : tally };
}

interface RouterMetricInput {
  env: CutoverConfig['environments'][string];
  environment: string;
  sites: string[];
  metric: MetricSpec;
  signal: AbortSignal | undefined;
  taken: () => void;
}

/**
 * A builtin metric: the router's counts of the preview's real traffic (every zdd site's preview listener), one sample per
 * interval; an interval without traffic (or an unread one) gives no sample, so only traffic decides. The live listener's
 * counts over the same time go beside it in the evidence.
 */
async function sampleRouterMetric({ env, environment, sites, metric, signal, taken }: RouterMetricInput): Promise<MetricEvidence> {
  const on = (channel: 'live' | 'preview') => (s: TrafficSeries) => s.channel === channel && sites.includes(s.site);
  const values: Array<number | null> = [];
  const problems = new Map<string, number>();
  const previews: RequestStats[] = [];
  const lives: RequestStats[] = [];
  const read = () =>
    readTraffic(env, environment, signal).catch((error: unknown) => {
      signal?.throwIfAborted();
      const problem = error instanceof Error ? error.message : String(error);
      problems.set(problem, (problems.get(problem) ?? 0) + 1);
      return null;
    });
  let before = await read();
  for (let i = 0; i < metric.samples; i++) {
    await sleep(metric.intervalMs, undefined, { signal });
    const after = await read();
    taken();
    if (!before || !after) values.push(null);
    else {
      const preview = statsBetween(sumTraffic(before, on('preview')), sumTraffic(after, on('preview')));
      previews.push(preview);
      lives.push(statsBetween(sumTraffic(before, on('live')), sumTraffic(after, on('live'))));
      if (preview.requests === 0) {
        values.push(null);
        problems.set('no traffic on the preview', (problems.get('no traffic on the preview') ?? 0) + 1);
      } else values.push(metric.builtin === 'p99' ? preview.p99Ms : preview.errorRate);
    }
    before = after;
  }
  const judged = judgeSamples(metric, values, problems);
  return { ...judged, preview: addStats(previews), live: lives.length ? addStats(lives) : null };
}

/** One number from GET <prometheus>/api/v1/query, or why there is none. */
async function queryPrometheus(metric: MetricSpec, signal: AbortSignal | undefined): Promise<{ value: number | null; problem?: string }> {
  const base = metric.prometheusUrl.endsWith('/') ? metric.prometheusUrl : `${metric.prometheusUrl}/`;
  const url = new URL('api/v1/query', base);
  url.searchParams.set('query', metric.query);
  const where = `Prometheus at ${new URL(base).origin}`;
  const timeout = AbortSignal.timeout(PROMETHEUS_TIMEOUT_MS);
  let body: PrometheusAnswer;
  try {
    const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
    const text = await response.text();
    try {
      body = JSON.parse(text) as PrometheusAnswer;
    } catch {
      return { value: null, problem: `${where} answered HTTP ${response.status} without a query result` };
    }
    if (body.status !== 'success')
      return { value: null, problem: `${where} refused the query: ${body.error ?? `HTTP ${response.status}`}` };
  } catch (error) {
    signal?.throwIfAborted();
    const why = timeout.aborted ? `no answer within ${PROMETHEUS_TIMEOUT_MS} ms` : describeFetchError(error);
    return { value: null, problem: `${where} unreachable (${why})` };
  }
  const { resultType, result } = body.data ?? {};
  let raw: unknown;
  if (resultType === 'scalar') raw = (result as [number, string] | undefined)?.[1];
  else if (resultType === 'vector') {
    const series = (result as Array<{ value: [number, string] }> | undefined) ?? [];
    if (series.length === 0) return { value: null, problem: 'no data (the query returned no series)' };
    if (series.length > 1) return { value: null, problem: `the query returned ${series.length} series, not one number` };
    raw = series[0]!.value[1];
  } else return { value: null, problem: `the query returned a ${String(resultType)}, not one number` };
  const value = Number(raw);
  if (raw === undefined || !Number.isFinite(value)) return { value: null, problem: `no data (the query gave ${String(raw)})` };
  return { value };
}

interface PrometheusAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

function summarize({ checks, metrics }: Pick<AnalysisEvidence, 'checks' | 'metrics'>): AnalysisEvidence {
  if (checks.length + metrics.length === 0)
    return {
      verdict: 'inconclusive',
      summary: 'nothing was checked: no zdd site has a preview and no metric is declared',
      checks,
      metrics,
    };
  const verdict = overallVerdict([...checks.map((c) => c.verdict), ...metrics.map((m) => m.verdict)]);
  const named = [
    ...checks.filter((c) => c.verdict === verdict).map((c) => `${c.site} GET ${c.path}: ${c.reason}`),
    ...metrics.filter((m) => m.verdict === verdict).map((m) => `metric ${m.name}: ${m.reason}`),
  ];
  const all = checks.length + metrics.length;
  const summary =
    verdict === 'pass'
      ? `${all} of ${all} checks and metrics passed`
      : `${named.length} of ${all} checks and metrics ${verdict === 'fail' ? 'failed' : 'inconclusive'}: ${named.join('; ')}`;
  return { verdict, summary, checks, metrics };
}

const round = (n: number) => Math.round(n * 1000) / 1000;

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused';
  if (cause?.code) return cause.code;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'invalid-input');
}

/** The activity's context under Temporal; undefined when called directly (tests). */
function currentActivity(): Context | undefined {
  try {
    return Context.current();
  } catch {
    return undefined;
  }
}
