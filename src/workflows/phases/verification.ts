/**
 * Phase 6: the new version waits for a person; Slack is reminded while nobody answers; never promoted by itself.
 * An analysis, when configured, checks the preview meanwhile and Resets by itself when it fails.
 */
import { condition, patched } from '@temporalio/workflow';
import { ANALYSIS_DURING_VERIFICATION, analysisFor, prepareAnalysis } from './analysis.js';
import { canaryFor, runCanary } from './canary.js';
import type { DeploymentContext } from './context.js';
import { announce } from './notify.js';
import { replayPeriodically, usesWriteReplay } from './replay-writes.js';

export async function awaitVerification(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('awaiting-verification');
  record.log(`Awaiting verification: the new version ${request.package.version} answers on its preview address. Complete or Reset.`);
  const spec = analysisFor(ctx);
  const analysis = spec && patched(ANALYSIS_DURING_VERIFICATION) ? prepareAnalysis(ctx, spec) : null;
  await announce(ctx, 'awaiting-verification');
  // readwrite-replay: the clone's writes reach the preview as it is verified; conflicts show before anyone decides.
  const replaying = usesWriteReplay(ctx) ? replayPeriodically(ctx) : null;
  analysis?.start();
  try {
    // expand-contract with a canary: a share of public clients on the new version, raised in steps, before the wait.
    const canary = canaryFor(ctx);
    if (canary) await runCanary(ctx, canary);
    if (await awaitDecision(ctx)) return;
  } finally {
    // Whoever decided first wins: a person's Complete or Reset, the analysis' own Reset, or the timeout.
    analysis?.stop();
    await replaying?.stop();
  }
  record.decision = { action: 'reset', rollbackDatabase: false, reason: 'verification timeout' };
  const window = formatMs(plan.verificationTimeoutMs);
  record.log(
    `Nobody completed or reset the deployment within ${window}: resetting it (a deployment is never promoted automatically).`,
    'warn',
  );
}

/** False when the verification window ended without a decision. */
async function awaitDecision(ctx: DeploymentContext): Promise<boolean> {
  const { plan, record } = ctx;
  let left = plan.verificationTimeoutMs;
  while (left > 0) {
    const wait = plan.slack ? Math.min(left, plan.slack.reminderIntervalMs) : left;
    if (await condition(() => record.decision !== null, wait)) return true;
    left -= wait;
    if (left > 0) await announce(ctx, 'reminder');
  }
  return false;
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}
