/**
 * A failure leaves the environment safe: the new version's slots stop on every site, the environment is told,
 * and Reset stays available until a new deployment supersedes this one or the verification window ends.
 */
import { ApplicationFailure, condition, patched, upsertSearchAttributes } from '@temporalio/workflow';
import { failureClasses } from '../../failures.js';
import type { DeploymentStatus, Phase } from '../definitions.js';
import { classify } from '../failure-classes.js';
import { phaseKey } from '../search-attributes.js';
import type { DeploymentContext } from './context.js';
import { announce } from './notify.js';
import { reset } from './reset.js';
import { resetRolling } from './rolling.js';
import { removeCanary } from './canary.js';
import { originalSlotId, stopSlot } from './slots.js';
import { tellEnvironmentFailed } from './tell-environment.js';

/** Releases before it published 'failed' only once waiting, after telling the environment and Slack. */
export const FAILURE_HANDLING_V2 = 'failure-handling-v2';

export async function failAndWait(ctx: DeploymentContext, error: unknown): Promise<DeploymentStatus> {
  const { record } = ctx;
  const failure = classify(error);
  if (patched(FAILURE_HANDLING_V2)) {
    // A canary in force sends no client to a version that failed (no command unless a canary was set).
    await removeCanary(ctx).catch((e: unknown) => record.log(`Could not remove the canary: ${classify(e).message}`, 'error'));
    if (record.phase === 'upgrade' || record.phase === 'warmup') await stopNewVersion(ctx);
    await tellEnvironmentFailed(ctx); // before anyone can see the failure, so a new deployment is accepted at once
    const settled = settledAfterFailure(record.phase);
    record.waitingAfterFailure = settled === null;
    record.fail(failure);
    if (settled !== null) {
      record.log(settled);
      await announce(ctx, 'failed');
      throw failedWith(record.status());
    }
  } else {
    record.waitingAfterFailure = true;
    record.fail(failure);
    await tellEnvironmentFailed(ctx);
  }
  await announce(ctx, 'failed');
  return await waitAfterFailure(ctx);
}

/** What a failure leaves when Reset would have nothing to do (so the deployment ends at once); null otherwise. */
function settledAfterFailure(phase: Phase): string | null {
  if (phase === 'preflight') return 'Nothing was changed: the environment is exactly as it was.';
  // Expand/contract mode: during expand the live version never stopped serving; after contract only the new one runs.
  if (phase === 'expand') return 'No traffic moved: the live version still serves every site.';
  if (phase === 'contract')
    return 'The new version serves every site and no old version runs; the contract migrations not applied stay pending.';
  return null;
}

/** No slot of the failed package keeps running on the original databases, on any site (promise 2). */
async function stopNewVersion(ctx: DeploymentContext) {
  for (const site of ctx.plan.sites) {
    const slotId = originalSlotId(ctx, site.name, ctx.request.package.sha256);
    try {
      await stopSlot(ctx, slotId, `Stop ${ctx.request.package.version} on ${site.name}`);
      ctx.record.updateSite(site.name, { previewSlot: null });
    } catch (error) {
      ctx.record.log(`Could not stop ${slotId}: ${classify(error).message}`, 'error');
    }
  }
}

async function waitAfterFailure(ctx: DeploymentContext): Promise<DeploymentStatus> {
  const { record } = ctx;
  if (!patched(FAILURE_HANDLING_V2)) upsertSearchAttributes([{ key: phaseKey, value: 'failed' }]);
  const acted = await condition(() => record.decision !== null || record.superseded, ctx.plan.verificationTimeoutMs);
  record.waitingAfterFailure = false;
  if (acted && record.decision?.action === 'reset') {
    try {
      // A rolling deployment that failed mid-roll goes back host by host, as its Reset does.
      if (record.rolling) await resetRolling(ctx);
      else await reset(ctx, record.decision.rollbackDatabase);
      await announce(ctx, 'reset');
      return record.status();
    } catch (error) {
      record.fail(classify(error));
    }
  } else if (record.superseded) {
    record.log('A new deployment of this environment takes over from here.');
  }
  throw failedWith(record.status());
}

/** The workflow's own failure: the class as its type, the status as its details. */
function failedWith(status: DeploymentStatus): ApplicationFailure {
  const failure = status.failure!;
  return ApplicationFailure.create({
    type: failure.class,
    message: `${failureClasses[failure.class].title}: ${failure.message}`,
    nonRetryable: true,
    details: [status],
  });
}
