/**
 * One long-lived workflow per environment that starts its deployments, one at a time (promise 4).
 * Requests arrive as an update-with-start, so the check for a running deployment and the start are atomic.
 */
import {
  ApplicationFailure,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import {
  deploymentFailedSignal,
  deploymentSettledSignal,
  deploymentWorkflowId,
  environmentStateQuery,
  refusals,
  requestDeploymentUpdate,
  supersedeSignal,
  type DeploymentRequest,
  type EnvironmentState,
} from './definitions.js';
import { deploymentWorkflow } from './deployment.js';
import { environmentKey, modeKey, packageVersionKey, phaseKey } from './search-attributes.js';

/** Idle this long, the environment workflow ends; the next request starts a new one. */
const IDLE_MS = 60 * 60 * 1000;
/** A failed deployment that was then Reset is not superseded: see the update handler. */
export const SUPERSEDE_ONLY_UNSETTLED = 'supersede-only-unsettled';
/** Keeps histories short. */
const DEPLOYMENTS_PER_RUN = 100;

export async function environmentWorkflow(environment: string, carried?: EnvironmentState['last']): Promise<void> {
  const state: EnvironmentState = { environment, running: null, last: carried ?? null };
  let runningFailed = false;
  /** The running deployment completed or reset: only its last words (Slack) are left, a new one may start. */
  let runningSettled = false;
  let queued: DeploymentRequest | null = null;
  let started = 0;

  // A settled deployment only sends its last words: to anyone asking, nothing runs any more (a query changes no history).
  setHandler(environmentStateQuery, () => ({ ...state, running: runningSettled ? null : state.running }));
  setHandler(deploymentFailedSignal, ({ deploymentId }) => {
    if (state.running?.deploymentId === deploymentId) runningFailed = true;
  });
  setHandler(deploymentSettledSignal, ({ deploymentId, outcome }) => {
    if (state.running?.deploymentId !== deploymentId) return;
    runningSettled = true;
    state.last = { deploymentId, outcome };
  });
  setHandler(
    requestDeploymentUpdate,
    async (request) => {
      queued = request; // before any await: a concurrent request's validator must see this one
      try {
        // A failed deployment hands over to the new one, which resumes from the environment's real state.
        // One that failed and was then Reset has settled: it has nothing to hand over and may already have ended.
        if (state.running && runningFailed && !(runningSettled && patched(SUPERSEDE_ONLY_UNSETTLED))) {
          const failed = state.running;
          try {
            await getExternalWorkflowHandle(failed.workflowId).signal(supersedeSignal);
          } catch {
            // It ended before the signal reached it: its end, seen by watch(), hands over just the same.
          }
          await condition(() => state.running?.deploymentId !== failed.deploymentId);
        }
        const workflowId = deploymentWorkflowId(request.deploymentId);
        state.running = { deploymentId: request.deploymentId, workflowId };
        runningFailed = false;
        runningSettled = false;
        const child = await startChild(deploymentWorkflow, {
          workflowId,
          args: [request],
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [
            { key: environmentKey, value: request.environment },
            { key: phaseKey, value: 'preflight' },
            { key: packageVersionKey, value: request.package.version },
            { key: modeKey, value: request.mode },
          ],
        }).catch((error: unknown) => {
          state.running = null; // it never started: nothing runs
          throw error;
        });
        started++;
        void watch(child.result(), request.deploymentId);
        return { deploymentId: request.deploymentId, workflowId };
      } finally {
        queued = null; // a request that failed must not keep the environment busy
      }
    },
    {
      validator: (request) => {
        if (request.environment !== environment) throw new Error(`request is for environment ${request.environment}, not ${environment}`);
        if ((state.running && !runningFailed && !runningSettled) || queued) {
          const busy = state.running ?? { deploymentId: queued!.deploymentId };
          throw ApplicationFailure.create({
            type: refusals.environmentBusy,
            message: `Environment ${environment} already has a deployment in progress: ${busy.deploymentId}. Complete or reset it first.`,
            nonRetryable: true,
            details: [busy.deploymentId],
          });
        }
      },
    },
  );

  async function watch(result: Promise<unknown>, deploymentId: string) {
    let outcome: NonNullable<EnvironmentState['last']>['outcome'];
    try {
      const status = (await result) as { phase?: string };
      outcome = status?.phase === 'reset' || status?.phase === 'rolled-back' ? 'reset' : 'completed';
    } catch {
      outcome = 'failed';
    }
    if (state.running?.deploymentId === deploymentId) {
      state.running = null;
      runningFailed = false;
      runningSettled = false;
    }
    state.last = { deploymentId, outcome };
  }

  for (;;) {
    const busy = await condition(() => state.running !== null || queued !== null, IDLE_MS);
    if (!busy) {
      await condition(allHandlersFinished);
      if (state.running === null && queued === null) return; // a request may have come in while we finished handlers
      continue;
    }
    await condition(() => state.running === null && queued === null);
    if (started >= DEPLOYMENTS_PER_RUN || workflowInfo().continueAsNewSuggested) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof environmentWorkflow>(environment, state.last);
    }
  }
}
