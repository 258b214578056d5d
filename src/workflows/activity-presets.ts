/**
 * The deployment workflow's activity presets. Every activity heartbeats (the workers' heartbeat interceptor),
 * so a worker or host agent killed mid-step is noticed after the heartbeat timeout, not the step's whole time.
 */
import { proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { createActivities } from '../activities/index.js';
import type { EnvironmentPlan } from '../activities/contract.js';
import type { AnalysisActivities } from './analysis-definitions.js';
import type { BakeActivities } from './bake-definitions.js';
import { failureClasses } from '../failures.js';
import type { HostActivities } from '../platform/agent/contract.js';
import type { SlackActivities } from '../slack/activities.js';
import { slackMisconfigured } from '../slack/contract.js';

type ControlActivities = ReturnType<typeof createActivities>;

const nonRetryableErrorTypes = Object.keys(failureClasses).filter((c) => c !== 'transient');
const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 10, nonRetryableErrorTypes };

/** Reading the environment's configuration, before its own timeouts are known. */
export const bootstrap = proxyActivities<ControlActivities>({ startToCloseTimeout: '30s', heartbeatTimeout: '10s', retry });

/** Slack messages: a few quick retries; a misconfigured Slack is not retried at all. */
export const notify = proxyActivities<SlackActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: [slackMisconfigured] },
});

/** Presets from the environment's timeouts: quick control steps, long database work, host slots and warm-ups. */
export function activityPresets(plan: EnvironmentPlan) {
  const { stepMs, heartbeatMs, databaseWorkMs } = plan.timeouts;
  // A host whose agent does not take a step within a step's time is lost (cut off, or its agent down): never a hang.
  const hostSteps = (taskQueue: string) =>
    proxyActivities<HostActivities>({
      taskQueue,
      scheduleToStartTimeout: stepMs,
      startToCloseTimeout: stepMs,
      heartbeatTimeout: heartbeatMs,
      retry,
    });
  const warmups = (taskQueue: string) =>
    proxyActivities<HostActivities>({
      taskQueue,
      scheduleToStartTimeout: stepMs,
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: heartbeatMs,
      retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes },
    });
  const host = hostSteps(plan.hostTaskQueue);
  const warmup = warmups(plan.hostTaskQueue);
  const hosts = plan.hosts ?? [{ name: plan.host, address: '127.0.0.1', taskQueue: plan.hostTaskQueue }];
  return {
    /** Every host the slots run on, with its own agent's slot steps and warm-ups. */
    slotHosts: hosts.map((h) => ({
      name: h.name,
      address: h.address,
      host: h.taskQueue === plan.hostTaskQueue ? host : hostSteps(h.taskQueue),
      warmup: h.taskQueue === plan.hostTaskQueue ? warmup : warmups(h.taskQueue),
    })),
    /** Quick calls to the router, the config and the package store. */
    control: proxyActivities<ControlActivities>({ startToCloseTimeout: stepMs, heartbeatTimeout: heartbeatMs, retry }),
    /** Copies, restore points, migrations: heartbeats tell a dead worker from a slow copy. */
    databaseWork: proxyActivities<ControlActivities>({
      startToCloseTimeout: databaseWorkMs,
      heartbeatTimeout: heartbeatMs,
      retry: { ...retry, initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 8 },
    }),
    host,
    /** Checks on the preview, where it answers (the host); its own timeout comes from the analysis it runs. */
    analysis: proxyActivities<AnalysisActivities>({
      taskQueue: plan.hostTaskQueue,
      startToCloseTimeout: stepMs,
      heartbeatTimeout: heartbeatMs,
      retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes },
    }),
    /** The bake's measurements of the new live slot, beside the router that counts them (the host). */
    bake: proxyActivities<BakeActivities>({
      taskQueue: plan.hostTaskQueue,
      startToCloseTimeout: stepMs,
      heartbeatTimeout: heartbeatMs,
      retry: { initialInterval: '1s', maximumAttempts: 2, nonRetryableErrorTypes },
    }),
    warmup,
  };
}

export type ActivityPresets = ReturnType<typeof activityPresets>;

/** Names the activity in the Web UI's timeline so it reads like the deployment log. */
export function run<A extends unknown[], R>(
  fn: ((...args: A) => Promise<R>) & { executeWithOptions(o: ActivityOptions, a: A): Promise<R> },
  summary: string,
  ...args: A
): Promise<R> {
  return fn.executeWithOptions({ summary } as ActivityOptions, args);
}
