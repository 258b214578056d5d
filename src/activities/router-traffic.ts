/**
 * Reading what the router counted, from another process (the host agent): GET /metrics/traffic on the router's admin
 * address (no secret on loopback, docs/metrics.md). Two readings make an interval; the analysis and the bake use it.
 */
import { httpUrl } from '../config/addresses.js';
import type { EnvironmentConfig } from '../config/schema.js';
import type { TrafficView } from '../platform/router/admin.js';
import { latencyQuantile, trafficBetween, type SlotTraffic } from '../platform/router/metrics.js';
import type { RequestStats } from '../workflows/analysis-definitions.js';

export type TrafficSeries = TrafficView['series'][number];

const READ_TIMEOUT_MS = 5_000;

/** Every series of the environment, as counted since the router started. */
export async function readTraffic(env: EnvironmentConfig, environment: string, signal?: AbortSignal): Promise<TrafficSeries[]> {
  const url = new URL('metrics/traffic', httpUrl(env.router.adminHost, env.router.adminPort));
  url.searchParams.set('environment', environment);
  const timeout = AbortSignal.timeout(READ_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
  } catch (error) {
    signal?.throwIfAborted();
    const why = timeout.aborted
      ? `no answer within ${READ_TIMEOUT_MS} ms`
      : String((error as { cause?: { code?: string } }).cause?.code ?? error);
    throw new Error(`the router's metrics at ${url.origin} are unreachable (${why})`, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) throw new Error(`the router's metrics at ${url.origin} answered HTTP ${response.status}: ${text.slice(0, 200)}`);
  return (JSON.parse(text) as TrafficView).series;
}

/** The sum of the series that match (an empty sum when none does). */
export function sumTraffic(series: readonly TrafficSeries[], match: (s: TrafficSeries) => boolean): SlotTraffic {
  const chosen = series.filter(match);
  const first = chosen[0];
  const zero: SlotTraffic = {
    requests: 0,
    byClass: { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, proxy_error: 0, client_closed: 0 },
    serverErrors: 0,
    proxyErrors: 0,
    latency: { bounds: first?.latency.bounds ?? [], counts: first ? first.latency.counts.map(() => 0) : [], sumSeconds: 0 },
    p99Seconds: null,
    inFlight: 0,
  };
  return chosen.reduce<SlotTraffic>((sum, s) => {
    const byClass = { ...sum.byClass };
    for (const key of Object.keys(byClass) as Array<keyof typeof byClass>) byClass[key] += s.byClass[key];
    const counts = sum.latency.counts.map((c, i) => c + (s.latency.counts[i] ?? 0));
    const latency = { bounds: sum.latency.bounds, counts, sumSeconds: sum.latency.sumSeconds + s.latency.sumSeconds };
    return {
      requests: sum.requests + s.requests,
      byClass,
      serverErrors: byClass['5xx'],
      proxyErrors: byClass.proxy_error,
      latency,
      p99Seconds: latencyQuantile(0.99, latency),
      inFlight: sum.inFlight + s.inFlight,
    };
  }, zero);
}

/** What was served between two sums: requests, failures (5xx + proxy errors; a client that left is not counted), p99. */
export function statsBetween(before: SlotTraffic, after: SlotTraffic): RequestStats {
  const interval = before.latency.counts.length === after.latency.counts.length ? trafficBetween(before, after) : after;
  const requests = interval.requests - interval.byClass.client_closed;
  const failures = interval.serverErrors + interval.proxyErrors;
  return {
    requests,
    failures,
    errorRate: requests > 0 ? failures / requests : 0,
    p99Ms: interval.p99Seconds === null || interval.requests === 0 ? null : Math.round(interval.p99Seconds * 1000),
  };
}

/** The sum of several intervals' stats (p99: the worst interval's, an upper bound of the whole). */
export function addStats(list: readonly RequestStats[]): RequestStats {
  const requests = list.reduce((n, s) => n + s.requests, 0);
  const failures = list.reduce((n, s) => n + s.failures, 0);
  const p99s = list.flatMap((s) => (s.p99Ms === null ? [] : [s.p99Ms]));
  return { requests, failures, errorRate: requests > 0 ? failures / requests : 0, p99Ms: p99s.length ? Math.max(...p99s) : null };
}
