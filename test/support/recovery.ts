/**
 * Kills a worker or host agent as an activity starts, restarts it, and reads from the workflow's history how
 * the deployment moved on: when the activity was retried, and which timeout noticed the dead process.
 */
import { temporal } from '@temporalio/proto';
import { phaseKey } from '../../src/workflows/search-attributes.js';
import type { TestStack } from './stack.js';

export interface CrashScenario {
  /** What is killed. */
  process: 'worker' | 'agent';
  /** CUTOVER_CRASH_AT: the activity (and its n-th execution) as which the process kills itself. */
  crashAt: string;
}

export interface Recovery {
  deploymentId: string;
  /** CutoverPhase when the process died. */
  phase: string | null | undefined;
  /** Kill → the crashed activity's retry started. */
  killToRetryMs: number;
  /** Kill → the new process polls Temporal (its start-up time). */
  killToReadyMs: number;
  /** The new process polls → the crashed activity's retry started (0 when the retry was waiting for it). */
  readyToRetryMs: number;
  /** What noticed the dead process: HEARTBEAT, not START_TO_CLOSE. */
  timeoutType: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The environment serves a version already; deploys `pkg` through the crash and returns once awaiting verification. */
export async function crashAndRecover(stack: TestStack, scenario: CrashScenario, pkg: string): Promise<Recovery> {
  const activity = scenario.crashAt.split('#')[0]!;
  const [kill, start, exited] =
    scenario.process === 'worker'
      ? [stack.killWorker, stack.startWorker, stack.workerExited]
      : [stack.killAgent, stack.startAgent, stack.agentExited];
  await kill();
  await start({ CUTOVER_CRASH_AT: scenario.crashAt });
  const deploymentId = await stack.deploy(pkg);
  if ((await exited()) !== 'SIGKILL') throw new Error(`the ${scenario.process} did not die at ${scenario.crashAt}`);
  const killedAt = Date.now();
  const handle = stack.client.workflow.getHandle(deploymentId);
  const phase = (await handle.describe()).typedSearchAttributes.get(phaseKey);
  await start();
  const readyAt = Date.now();
  const started = await retryOf(stack, deploymentId, activity, killedAt);
  await stack.waitForPhase(deploymentId, ['awaiting-verification'], 120_000);
  return {
    deploymentId,
    phase,
    killToRetryMs: started.at - killedAt,
    killToReadyMs: readyAt - killedAt,
    readyToRetryMs: Math.max(0, started.at - readyAt),
    timeoutType: started.timeoutType,
  };
}

/** The start of the first attempt of `activity` that began after the kill, from the history once it completed. */
async function retryOf(stack: TestStack, workflowId: string, activity: string, after: number) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const events = (await stack.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const scheduled = events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activity)
      .map((e) => Number(e.eventId));
    const retried = events.find((e) => {
      const a = e.activityTaskStartedEventAttributes;
      return a && scheduled.includes(Number(a.scheduledEventId)) && (a.attempt ?? 1) > 1 && millis(e.eventTime) >= after - 1000;
    });
    if (retried) {
      const type = retried.activityTaskStartedEventAttributes!.lastFailure?.timeoutFailureInfo?.timeoutType ?? 0;
      return { at: millis(retried.eventTime), timeoutType: temporal.api.enums.v1.TimeoutType[type] ?? String(type) };
    }
    await sleep(200);
  }
  throw new Error(`${activity} was not retried within 120 s`);
}

function millis(t: { seconds?: { toNumber(): number } | number | null; nanos?: number | null } | null | undefined): number {
  if (!t) return 0;
  const seconds = typeof t.seconds === 'number' ? t.seconds : (t.seconds?.toNumber() ?? 0);
  return seconds * 1000 + Math.floor((t.nanos ?? 0) / 1e6);
}
