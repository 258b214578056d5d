import { Counter, Gauge, Registry, type Metric } from 'prom-client';
import type { Channel } from '../data-plane/target-fields.js';
import type { ListenerState } from './switchboard.js';
import type { Target } from './targets.js';

/**
 * What the router counts of the requests it serves, per environment, site, listener (channel) and slot: for Prometheus
 * (`/metrics` on the admin API, docs/metrics.md) and for the analysis of a deployment (slotTraffic). The proxy keeps
 * plain numbers per series, found again only after a switch: a prom-client child hashes its labels on every call
 * (about 3 µs a request, where a whole proxied request costs about 140 µs); prom-client reads the numbers at a scrape.
 */

/** Request durations, in seconds: from a slot on this host (a millisecond) to the slot timeout's default (60 s). */
export const latencyBuckets: readonly number[] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * What became of a request: the class of the status it was answered; `proxy_error` when the slot gave no complete
 * answer (refused, timed out or broke off: the router answered 502/504 or cut the response off); `client_closed` when
 * the client left before any answer.
 */
export const statusClasses = ['2xx', '3xx', '4xx', '5xx', 'proxy_error', 'client_closed'] as const;
export type StatusClass = (typeof statusClasses)[number];

/** Indexes into statusClasses, for the proxy's hot path. */
export const outcome = { serverError: 3, proxyError: 4, clientClosed: 5 } as const;

/** The outcome index of a final status (200-599; anything above counts as 5xx). */
export function outcomeOfStatus(status: number): number {
  return status < 300 ? 0 : status < 400 ? 1 : status < 500 ? 2 : 3;
}

/** The slot label of requests the router answers itself: its maintenance page, or its 503 when nothing is routed. */
export const maintenanceSlot = 'maintenance-page';
export const noRouteSlot = 'no-route';

export function slotLabelOf(target: Target | null): string {
  if (target === null) return noRouteSlot;
  return target.kind === 'maintenance' ? maintenanceSlot : target.upstreams[0]!.slotId;
}

export interface SeriesLabels {
  environment: string;
  site: string;
  channel: Channel;
  slot: string;
}

const labelNames = ['environment', 'site', 'channel', 'slot'] as const;

/** The requests of one slot on one listener, since the router started (or since the series was last dropped). */
export class SlotSeries {
  /** Requests ended, by outcome (statusClasses' order). */
  readonly requests: number[] = statusClasses.map(() => 0);
  /** Requests ended, by duration: one count per bucket of latencyBuckets, then +Inf; not cumulative. */
  readonly buckets: number[] = [...latencyBuckets.map(() => 0), 0];
  durationSeconds = 0;
  inFlight = 0;
  /** Dropped from the metrics (no route used it for the retention): a listener caching it looks it up again. */
  dropped = false;
  /** When an exposition last found it routed or in flight (ms). */
  lastUsed: number;

  constructor(
    readonly labels: Readonly<SeriesLabels>,
    now: number,
  ) {
    this.lastUsed = now;
  }

  /** A request's target was chosen: it is in flight until end(). */
  begin(): void {
    this.inFlight += 1;
  }

  end(outcomeIndex: number, seconds: number): void {
    this.inFlight -= 1;
    this.count(outcomeIndex, seconds);
  }

  /** A request passed on before it ended (from the fast lane to Node's server): counted where it ends. */
  passedOn(): void {
    this.inFlight -= 1;
  }

  /** A request answered at once (by the router itself). */
  count(outcomeIndex: number, seconds: number): void {
    this.requests[outcomeIndex]! += 1;
    let bucket = 0;
    while (bucket < latencyBuckets.length && seconds > latencyBuckets[bucket]!) bucket += 1;
    this.buckets[bucket]! += 1;
    this.durationSeconds += seconds;
  }
}

/** The series of one listener: the one of its current target, looked up again only when the target changed. */
export class ListenerMetrics {
  private target: Target | null | undefined = undefined;
  private series: SlotSeries | undefined;

  constructor(
    private readonly metrics: RouterMetrics,
    readonly environment: string,
    readonly site: string,
    readonly channel: Channel,
    private readonly state: ListenerState,
  ) {}

  /** The series a request to `target` counts in. */
  of(target: Target | null): SlotSeries {
    if (target !== this.target || this.series === undefined || this.series.dropped) {
      this.series = this.metrics.series({
        environment: this.environment,
        site: this.site,
        channel: this.channel,
        slot: slotLabelOf(target),
      });
      this.target = target;
    }
    return this.series;
  }

  /** The labels of what this listener serves now. */
  current(): SeriesLabels {
    return { environment: this.environment, site: this.site, channel: this.channel, slot: slotLabelOf(this.state.target) };
  }

  /** The labels of its canary's slot, while it has one: its series is in use as the live one is. */
  currentCanary(): SeriesLabels | null {
    const canary = this.state.canary;
    return canary ? { ...this.current(), slot: slotLabelOf(canary.target) } : null;
  }
}

export interface RouterMetricsOptions {
  /** How long a series that no route uses and no request is in stays in the metrics (ms); 1 hour by default. */
  retentionMs?: number;
  /** The clock of the retention (ms). */
  now?: () => number;
}

const keyOf = (labels: SeriesLabels) => `${labels.environment}\n${labels.site}\n${labels.channel}\n${labels.slot}`;

/** Every series of one router, and their Prometheus exposition (prom-client's text format). */
export class RouterMetrics {
  readonly registry = new Registry();
  private readonly all = new Map<string, SlotSeries>();
  private readonly listeners: ListenerMetrics[] = [];
  private readonly retentionMs: number;
  private readonly now: () => number;

  constructor(options: RouterMetricsOptions = {}) {
    this.retentionMs = options.retentionMs ?? 3_600_000;
    this.now = options.now ?? Date.now;
    const series = () => this.all.values();
    new Counter({
      name: 'cutover_router_requests_total',
      help:
        'Requests the router ended, by the class of their status ' +
        '(proxy_error: the slot gave no complete answer; client_closed: the client left first)',
      labelNames: [...labelNames, 'status_class'],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of series()) statusClasses.forEach((status_class, i) => this.inc({ ...s.labels, status_class }, s.requests[i]!));
      },
    });
    registerCountedHistogram(
      this.registry,
      'cutover_router_request_duration_seconds',
      'Time from a request reaching the router to the end of its response, in seconds',
      series,
    );
    new Gauge({
      name: 'cutover_router_requests_in_flight',
      help: 'Requests the router is proxying now',
      labelNames: [...labelNames],
      registers: [this.registry],
      collect() {
        this.reset();
        for (const s of series()) this.set(s.labels, s.inFlight);
      },
    });
  }

  /** The series of these labels, made on first use. */
  series(labels: SeriesLabels): SlotSeries {
    const key = keyOf(labels);
    let found = this.all.get(key);
    if (!found) {
      found = new SlotSeries({ ...labels }, this.now());
      this.all.set(key, found);
    }
    return found;
  }

  /** The metrics of one listener of a site; `state` says what it serves now. */
  listener(environment: string, site: string, channel: Channel, state: ListenerState): ListenerMetrics {
    const listener = new ListenerMetrics(this, environment, site, channel, state);
    this.listeners.push(listener);
    return listener;
  }

  /** The series of a site (of every site of the environment when `site` is undefined), in the order they were made. */
  seriesOf(environment: string, site?: string): SlotSeries[] {
    return [...this.all.values()].filter((s) => s.labels.environment === environment && (site === undefined || s.labels.site === site));
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The text Prometheus scrapes; first drops the series left unused longer than the retention. */
  exposition(): Promise<string> {
    this.dropUnused();
    return this.registry.metrics();
  }

  /** Series of slots no listener serves any more, with nothing in flight: kept for the retention, so a scrape sees their last counts. */
  private dropUnused(): void {
    const now = this.now();
    const served = new Set(this.listeners.map((listener) => keyOf(listener.current())));
    for (const listener of this.listeners) {
      const canary = listener.currentCanary();
      if (canary) served.add(keyOf(canary));
    }
    for (const [key, series] of this.all) {
      if (served.has(key) || series.inFlight > 0) series.lastUsed = now;
      else if (now - series.lastUsed >= this.retentionMs) {
        series.dropped = true;
        this.all.delete(key);
      }
    }
  }
}

/**
 * A histogram whose buckets the proxy counts itself (SlotSeries): registered as a collector whose get() answers the
 * values, which prom-client's registry writes out as it writes its own histograms (a prom-client Histogram takes
 * its counts only from observe(), one call per request).
 */
function registerCountedHistogram(registry: Registry, name: string, help: string, read: () => Iterable<SlotSeries>): void {
  const collector = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    get: async () => {
      const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
      for (const series of read()) {
        let cumulative = 0;
        series.buckets.forEach((count, i) => {
          cumulative += count;
          const le = i < latencyBuckets.length ? latencyBuckets[i]! : '+Inf';
          values.push({ metricName: `${name}_bucket`, labels: { ...series.labels, le }, value: cumulative });
        });
        values.push({ metricName: `${name}_sum`, labels: { ...series.labels }, value: series.durationSeconds });
        values.push({ metricName: `${name}_count`, labels: { ...series.labels }, value: cumulative });
      }
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  // The registry reads any metric through name and get(); its typings list only its own classes.
  registry.registerMetric(collector as unknown as Metric);
}

/** What one slot served, for the analysis of a deployment: read in-process or from the admin API's /metrics/traffic. */
export interface SlotTraffic {
  /** Requests ended, every outcome. */
  requests: number;
  byClass: Record<StatusClass, number>;
  /** Requests the slot answered with a 5xx. */
  serverErrors: number;
  /** Requests the slot gave no complete answer to (the router answered 502/504, or cut the response off). */
  proxyErrors: number;
  /** Requests by duration: `counts[i]` ended within `bounds[i]` seconds (and above the bound before); the last count is above every bound. */
  latency: { bounds: readonly number[]; counts: number[]; sumSeconds: number };
  /** The 99th percentile of the duration in seconds, estimated from the buckets as Prometheus's histogram_quantile does; null without requests. */
  p99Seconds: number | null;
  inFlight: number;
}

export interface TrafficQuery {
  environment: string;
  site: string;
  slot: string;
  /** One listener only; both (live and preview) when undefined. */
  channel?: Channel;
}

/** The traffic of one slot of a site, since the router started: take two and use trafficBetween for an interval. */
export function slotTraffic(metrics: RouterMetrics, query: TrafficQuery): SlotTraffic {
  const series = metrics
    .seriesOf(query.environment, query.site)
    .filter((s) => s.labels.slot === query.slot && (query.channel === undefined || s.labels.channel === query.channel));
  return trafficOf(series);
}

/** The sum of some series. */
export function trafficOf(series: readonly SlotSeries[]): SlotTraffic {
  const requests = statusClasses.map((_, i) => series.reduce((sum, s) => sum + s.requests[i]!, 0));
  const counts = [...latencyBuckets, Infinity].map((_, i) => series.reduce((sum, s) => sum + s.buckets[i]!, 0));
  const sumSeconds = series.reduce((sum, s) => sum + s.durationSeconds, 0);
  return summary(
    requests,
    counts,
    sumSeconds,
    series.reduce((sum, s) => sum + s.inFlight, 0),
  );
}

/** What a slot served between two readings (`before` taken first); in flight as at `after`. */
export function trafficBetween(before: SlotTraffic, after: SlotTraffic): SlotTraffic {
  // A reading after the series was dropped starts from zero again: then the later reading is the interval's.
  const restarted = after.requests < before.requests;
  const base = restarted ? undefined : before;
  const requests = statusClasses.map((status) => after.byClass[status] - (base?.byClass[status] ?? 0));
  const counts = after.latency.counts.map((count, i) => count - (base?.latency.counts[i] ?? 0));
  return summary(requests, counts, after.latency.sumSeconds - (base?.latency.sumSeconds ?? 0), after.inFlight);
}

function summary(requests: number[], counts: number[], sumSeconds: number, inFlight: number): SlotTraffic {
  const byClass = Object.fromEntries(statusClasses.map((status, i) => [status, requests[i]!])) as Record<StatusClass, number>;
  const latency = { bounds: latencyBuckets, counts, sumSeconds };
  return {
    requests: requests.reduce((a, b) => a + b, 0),
    byClass,
    serverErrors: byClass['5xx'],
    proxyErrors: byClass.proxy_error,
    latency,
    p99Seconds: latencyQuantile(0.99, latency),
    inFlight,
  };
}

/**
 * The q-quantile of a duration histogram, as Prometheus's histogram_quantile estimates it: linear within the bucket
 * the rank falls in (from 0 for the first); the highest bound when it falls above every bound. Null without requests.
 */
export function latencyQuantile(q: number, latency: Pick<SlotTraffic['latency'], 'bounds' | 'counts'>): number | null {
  const total = latency.counts.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let i = 0; i < latency.bounds.length; i += 1) {
    const count = latency.counts[i]!;
    if (count > 0 && below + count >= rank) {
      const lower = i === 0 ? 0 : latency.bounds[i - 1]!;
      return lower + (latency.bounds[i]! - lower) * ((rank - below) / count);
    }
    below += count;
  }
  return latency.bounds[latency.bounds.length - 1]!;
}
