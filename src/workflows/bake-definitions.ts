/**
 * Bake after Complete: the previous version stays warm while the new one serves, and takes the traffic back at once
 * when the new one breaches the thresholds. Side-effect free, like definitions.ts: workflows, activities, API and Slack import it.
 */
import type { RequestStats } from './analysis-definitions.js';

export interface BakeSpec {
  /** How long the previous version stays warm after Complete. */
  durationMs: number;
  /** How often the new live slot's traffic is measured; a breach is acted on at the end of the interval it happened in. */
  intervalMs: number;
  /** A higher (5xx + proxy errors) / requests of an interval is a breach; null: not checked. */
  maxErrorRate: number | null;
  /** A slower p99 of an interval is a breach; null: not checked. */
  maxP99Ms: number | null;
}

/** What one site's new live slot served in one interval, as the router counted it. */
export interface BakeTraffic extends RequestStats {
  site: string;
  slotId: string;
}

export interface MeasureLiveTrafficInput {
  environment: string;
  /** The new live slot of each zdd site. */
  slots: Array<{ site: string; slotId: string }>;
  intervalMs: number;
}

/** Served by the host agent, beside the router that counts the traffic. */
export interface BakeActivities {
  measureLiveTraffic(input: MeasureLiveTrafficInput): Promise<BakeTraffic[]>;
}

/** The bake as the deployment's status shows it. */
export interface BakeStatus {
  /** watching: the bake runs; passed: no breach, the previous version stopped; rolled-back: a breach sent the traffic back. */
  state: 'watching' | 'passed' | 'rolled-back';
  spec: BakeSpec;
  startedAt: string;
  endedAt: string | null;
  intervals: number;
  /** The last interval's traffic per site. */
  last: BakeTraffic[];
  /** Why the traffic went back; null without a breach. */
  breach: string | null;
}

/** The breaches of one interval, in words; none when no threshold was crossed (an interval without traffic breaches nothing). */
export function bakeBreaches(spec: BakeSpec, traffic: BakeTraffic[]): string[] {
  return traffic.flatMap((t) => {
    if (t.requests === 0) return [];
    const found: string[] = [];
    if (spec.maxErrorRate !== null && t.errorRate > spec.maxErrorRate)
      found.push(
        `site ${t.site}: error rate ${pct(t.errorRate)} above ${pct(spec.maxErrorRate)} (${t.failures} of ${t.requests} requests)`,
      );
    if (spec.maxP99Ms !== null && t.p99Ms !== null && t.p99Ms > spec.maxP99Ms)
      found.push(`site ${t.site}: p99 ${t.p99Ms} ms above ${spec.maxP99Ms} ms (${t.requests} requests)`);
    return found;
  });
}

const pct = (rate: number) => `${Math.round(rate * 1000) / 10}%`;
