/** --wait: polls the deployment, shows its phases, until the caller's judge says it is over. */
import { sleep, type CliContext } from './context.js';
import { CliError, exitCodes } from './exit-codes.js';
import { createProgress } from './progress.js';
import type { Deployment } from './types.js';

export type Outcome = 'ok' | 'failed';

/** An API restart while waiting is ridden out; this long without an answer is not. */
const UNREACHABLE_GRACE_MS = 30_000;

export async function waitForDeployment(
  ctx: CliContext,
  id: string,
  judge: (status: Deployment) => Outcome | null,
): Promise<{ status: Deployment; outcome: Outcome }> {
  const progress = ctx.json ? null : createProgress(ctx.out);
  let unreachableSince: number | null = null;
  for (;;) {
    let status: Deployment;
    try {
      status = await ctx.api.get<Deployment>(`/v1/deployments/${encodeURIComponent(id)}`);
      unreachableSince = null;
    } catch (error) {
      if (!(error instanceof CliError) || error.exitCode !== exitCodes.unreachable) throw error;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > UNREACHABLE_GRACE_MS) throw error;
      await sleep(ctx.pollMs);
      continue;
    }
    progress?.update(status);
    const outcome = judge(status);
    if (outcome) return { status, outcome };
    await sleep(ctx.pollMs);
  }
}

/**
 * Judges a Complete or Reset once accepted: ok at its goal; failed when the deployment fails afterwards, that is
 * when it is failed after having left the state it was accepted in, or failed with another failure than before.
 */
export function decisionJudge(accepted: Deployment, goal: 'completed' | 'reset') {
  let leftFailed = accepted.phase !== 'failed';
  const failureBefore = JSON.stringify(accepted.failure);
  return (status: Deployment): Outcome | null => {
    if (status.phase === goal) return 'ok';
    // A bake after Complete that breached sent the traffic back: the Complete did not hold.
    if (status.phase === 'rolled-back') return 'failed';
    if (status.phase !== 'failed') {
      leftFailed = true;
      return null;
    }
    return leftFailed || JSON.stringify(status.failure) !== failureBefore ? 'failed' : null;
  };
}
