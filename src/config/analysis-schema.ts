/**
 * The `analysis` of an environment (cutover.yaml) or of one deployment request (the API): checks on the preview
 * and Prometheus thresholds that Reset a deployment by themselves when they fail. One schema for both.
 */
import { z } from 'zod';
import type { AnalysisSpec } from '../workflows/analysis-definitions.js';
import { durationMs } from './duration.js';
import { duration, isDuration, mapping, positiveDuration, typeOfInput } from './fields.js';

const whole = (min: number, max: number) =>
  z
    .number({ error: (i) => `must be a whole number, got ${typeOfInput(i.input)}` })
    .int('must be a whole number')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);

/** The longest one check or metric may run: the verification waits for people, the analysis should not make them wait. */
const MAX_SERIES_MS = 3_600_000;
const seriesFits = (count: number, interval: string) => !isDuration(interval) || count * durationMs(interval) <= MAX_SERIES_MS;

export const analysisCheckSchema = z
  .strictObject(
    {
      path: z
        .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a path, got ${typeOfInput(i.input)}`) })
        .startsWith('/', 'must start with "/"')
        .max(2000, 'is too long')
        .regex(/^[^\s#]*$/, 'must not contain spaces or a fragment (#)'),
      expectStatus: whole(100, 599).default(200),
      /** A slower answer counts as a failure. */
      maxLatency: positiveDuration.optional(),
      requests: whole(1, 10_000).default(20),
      interval: duration.default('500ms'),
      /** Failures tolerated; one more fails the check. */
      failureLimit: whole(0, 10_000).default(0),
    },
    mapping('a mapping with path'),
  )
  .refine((c) => seriesFits(c.requests, c.interval), { path: ['requests'], message: 'requests × interval must be at most 1h' })
  .refine((c) => !(c.requests >= 1) || c.failureLimit < c.requests, { path: ['failureLimit'], message: 'must be less than requests' });

const prometheusUrl = z
  .url({ protocol: /^https?$/, error: (i) => (i.input === undefined ? 'is required' : 'must be an http(s) URL of Prometheus') })
  // The request and the plan are kept in workflow history: no credentials in them.
  .refine((url) => !URL.canParse(url) || (!new URL(url).username && !new URL(url).password), 'must not contain a user or password');

/** What the router counts of the preview's traffic (docs/metrics.md): (5xx + proxy errors) / requests, and the p99 latency. */
export const builtinMetrics = ['error-rate', 'p99'] as const;

export const analysisMetricSchema = z
  .strictObject(
    {
      /** Names the metric in the log and Slack; the query when absent. */
      name: z
        .string({ error: (i) => `must be a string, got ${typeOfInput(i.input)}` })
        .min(1, 'must not be empty')
        .max(100, 'is too long')
        .optional(),
      /** The router's own counts of the preview's traffic instead of a Prometheus query: `error-rate` (0..1) or `p99` (ms). */
      builtin: z.enum(builtinMetrics, { error: () => `must be one of ${builtinMetrics.join(', ')}` }).optional(),
      /** Prometheus base URL, e.g. http://127.0.0.1:9090 */
      prometheus: prometheusUrl.optional(),
      /** PromQL that returns one number (a scalar or a one-series vector). */
      query: z
        .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a PromQL query, got ${typeOfInput(i.input)}`) })
        .min(1, 'must not be empty')
        .max(4000, 'is too long')
        .optional(),
      /** A sample above this is a breach (builtin error-rate: a fraction 0..1; builtin p99: milliseconds). */
      max: z.number({ error: (i) => (i.input === undefined ? 'is required' : `must be a number, got ${typeOfInput(i.input)}`) }),
      samples: whole(1, 1_000).default(3),
      interval: positiveDuration.default('10s'),
      failureLimit: whole(0, 1_000).default(0),
    },
    mapping('a mapping with prometheus, query and max (or builtin and max)'),
  )
  .superRefine((m, ctx) => {
    const issue = (field: string, message: string) => ctx.addIssue({ code: 'custom', path: [field], message });
    if (m.builtin) {
      if (m.prometheus !== undefined) issue('prometheus', `must not be set with builtin: the router counts ${m.builtin} itself`);
      if (m.query !== undefined) issue('query', `must not be set with builtin: the router counts ${m.builtin} itself`);
      if (m.builtin === 'error-rate' && (m.max < 0 || m.max > 1)) issue('max', 'must be a fraction from 0 to 1 for builtin error-rate');
      if (m.builtin === 'p99' && m.max <= 0) issue('max', 'must be a number of milliseconds above 0 for builtin p99');
      return;
    }
    if (m.prometheus === undefined) issue('prometheus', `is required (or builtin: ${builtinMetrics.join(' | ')})`);
    if (m.query === undefined) issue('query', `is required (or builtin: ${builtinMetrics.join(' | ')})`);
  })
  .refine((m) => seriesFits(m.samples, m.interval), { path: ['samples'], message: 'samples × interval must be at most 1h' })
  .refine((m) => !(m.samples >= 1) || m.failureLimit < m.samples, { path: ['failureLimit'], message: 'must be less than samples' });

export const analysisSchema = z
  .strictObject(
    {
      checks: z
        .array(analysisCheckSchema, { error: () => 'must be a list of checks' })
        .max(20, 'must be at most 20 checks')
        .default([]),
      metrics: z
        .array(analysisMetricSchema, { error: () => 'must be a list of metrics' })
        .max(20, 'must be at most 20 metrics')
        .default([]),
      /** A failed analysis Resets code only unless this is true. */
      rollbackDatabase: z.boolean({ error: (i) => `must be true or false, got ${typeOfInput(i.input)}` }).default(false),
    },
    mapping('a mapping with checks and/or metrics'),
  )
  .refine((a) => a.checks.length + a.metrics.length > 0, 'must declare at least one check or metric');

export type AnalysisConfig = z.infer<typeof analysisSchema>;

/** What the workflow works with: durations in milliseconds, every default filled in. */
export function analysisSpec(config: AnalysisConfig): AnalysisSpec {
  return {
    checks: config.checks.map((c) => ({
      path: c.path,
      expectStatus: c.expectStatus,
      maxLatencyMs: c.maxLatency ? durationMs(c.maxLatency) : null,
      requests: c.requests,
      intervalMs: durationMs(c.interval),
      failureLimit: c.failureLimit,
    })),
    metrics: config.metrics.map((m) => ({
      name: m.name ?? m.query ?? m.builtin!,
      prometheusUrl: m.prometheus ?? '',
      query: m.query ?? builtinQuery(m.builtin!),
      ...(m.builtin ? { builtin: m.builtin } : {}),
      max: m.max,
      samples: m.samples,
      intervalMs: durationMs(m.interval),
      failureLimit: m.failureLimit,
    })),
    rollbackDatabase: config.rollbackDatabase,
  };
}

/** How a builtin metric reads in the evidence, where a Prometheus metric shows its query. */
function builtinQuery(metric: (typeof builtinMetrics)[number]): string {
  return metric === 'error-rate'
    ? "router: (5xx + proxy errors) / requests of the preview's traffic"
    : "router: p99 latency (ms) of the preview's traffic";
}
