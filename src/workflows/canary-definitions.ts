/**
 * Canary steps before the decision (expand-contract mode: old and new versions share the databases, so a share of public
 * traffic can go to the new version). Side-effect free, like definitions.ts: workflows, the API and Slack import it.
 */
import type { BakeTraffic } from './bake-definitions.js';

export interface CanarySpec {
  /** Percent of public clients on the new version, one step after another, ascending, 1..100. */
  steps: number[];
  /** How long each step lasts before its traffic is judged. */
  intervalMs: number;
  /** A higher (5xx + proxy errors) / requests of a step is a breach; null: not checked. */
  maxErrorRate: number | null;
  /** A slower p99 of a step is a breach; null: not checked. */
  maxP99Ms: number | null;
  /** Requests that always get the new version (testers): a header or a cookie with this exact value. */
  allow?: Array<{ header?: string; cookie?: string; value: string }>;
}

/** What the canary slot of each site served during one step. */
export interface CanaryStepResult {
  percent: number;
  traffic: BakeTraffic[];
}

/** The canary as the deployment's status shows it. */
export interface CanaryStatus {
  spec: CanarySpec;
  /** The percent in force now (0 once breached or removed). */
  percent: number;
  /** Steps whose interval ended and was judged. */
  stepsDone: number;
  steps: CanaryStepResult[];
  /** stepping: raising the share; holding: at the last step, waiting for a person; breached: set to 0 and Reset; ended: removed. */
  state: 'stepping' | 'holding' | 'breached' | 'ended';
  /** pass: every step held; fail: a step breached; null while stepping or when a step could not be measured. */
  verdict: 'pass' | 'fail' | null;
  breach: string | null;
}
