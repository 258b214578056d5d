/**
 * One smooth deployment of a package to an environment (design brief, phases 1-7), as an outline of phases.
 * Every step is an idempotent activity, so a retry or a replay after a crash does no harm.
 */
import { patched, upsertSearchAttributes } from '@temporalio/workflow';
import { bootstrap, run } from './activity-presets.js';
import { handleMessages } from './decisions.js';
import type { DeploymentRequest, DeploymentStatus, Phase } from './definitions.js';
import { DeploymentRecord } from './deployment-record.js';
import { cloneDatabases, needsClones } from './phases/clone.js';
import { complete } from './phases/complete.js';
import { completeAndContract, resetKeepingExpand } from './phases/contract.js';
import { deploymentContext } from './phases/context.js';
import { enterMaintenance } from './phases/enter-maintenance.js';
import { expand, planExpandContract, startBeside, usesExpandContract } from './phases/expand.js';
import { FAILURE_HANDLING_V2, failAndWait } from './phases/failure.js';
import { announce } from './phases/notify.js';
import { preflight } from './phases/preflight.js';
import { reset } from './phases/reset.js';
import { deployRolling, planRolling, usesRolling } from './phases/rolling.js';
import { upgrade } from './phases/upgrade.js';
import { awaitVerification } from './phases/verification.js';
import { warmUp } from './phases/warm-up.js';
import { phaseKey } from './search-attributes.js';

export async function deploymentWorkflow(request: DeploymentRequest): Promise<DeploymentStatus> {
  const record = new DeploymentRecord(request, () => new Date(), publishPhase);
  handleMessages(record);
  const plan = await run(bootstrap.describeEnvironment, 'Read the environment', { environment: request.environment });
  const ctx = deploymentContext(request, plan, record);
  try {
    await preflight(ctx);
    // Rolling strategy: hosts upgraded a few at a time, no clone (null: no live version yet, the smooth path starts it).
    const rolling = usesRolling(ctx) ? await planRolling(ctx) : null;
    if (rolling) return await deployRolling(ctx, rolling);
    // Expand/contract mode: no clone; the old version keeps serving on the expanded schema until Complete.
    const phased = usesExpandContract(ctx) ? await planExpandContract(ctx) : null;
    if (phased) await expand(ctx, phased);
    else if (record.previousPackage) {
      if (needsClones(ctx)) await cloneDatabases(ctx);
      await enterMaintenance(ctx);
    }
    await (phased ? startBeside(ctx) : upgrade(ctx));
    await warmUp(ctx);
    await awaitVerification(ctx);
    if (record.decision?.action === 'complete') await (phased ? completeAndContract(ctx, phased) : complete(ctx));
    else await (phased ? resetKeepingExpand(ctx) : reset(ctx, record.decision?.rollbackDatabase ?? false));
    await announce(ctx, record.phase === 'completed' ? 'completed' : record.phase === 'rolled-back' ? 'rolled-back' : 'reset');
    return record.status();
  } catch (error) {
    return await failAndWait(ctx, error);
  }
}

/** The CutoverPhase search attribute follows every phase change, so the Web UI and a worker-less API see it. */
function publishPhase(phase: Phase): void {
  // The first release published 'failed' later, once the deployment waited after its failure.
  if (phase === 'failed' && !patched(FAILURE_HANDLING_V2)) return;
  upsertSearchAttributes([{ key: phaseKey, value: phase }]);
}
