/** The deployment tells its environment workflow how it ended, so the next deployment is accepted at once. */
import { getExternalWorkflowHandle, log, patched, workflowInfo } from '@temporalio/workflow';
import { deploymentFailedSignal, deploymentSettledSignal } from '../definitions.js';
import type { DeploymentContext } from './context.js';

export async function tellEnvironmentFailed(ctx: DeploymentContext): Promise<void> {
  await tell((handle) => handle.signal(deploymentFailedSignal, { deploymentId: ctx.request.deploymentId }));
}

/** Sent before the phase shows completed or reset: whoever sees the end may deploy again. */
export async function tellEnvironmentSettled(ctx: DeploymentContext, outcome: 'completed' | 'reset'): Promise<void> {
  if (!patched('tell-environment-settled')) return;
  await tell((handle) => handle.signal(deploymentSettledSignal, { deploymentId: ctx.request.deploymentId, outcome }));
}

async function tell(send: (handle: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>) {
  const parent = workflowInfo().parent;
  if (!parent) return;
  try {
    await send(getExternalWorkflowHandle(parent.workflowId));
  } catch (err) {
    log.warn('could not tell the environment how the deployment ended', { err: String(err) });
  }
}
