/** Phase 6: the new version waits for a person; Slack is reminded while nobody answers; never promoted by itself. */
import { condition } from '@temporalio/workflow';
import type { DeploymentContext } from './context.js';
import { announce } from './notify.js';

export async function awaitVerification(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('awaiting-verification');
  record.log(`Awaiting verification: the new version ${request.package.version} answers on its preview address. Complete or Reset.`);
  await announce(ctx, 'awaiting-verification');
  if (await awaitDecision(ctx)) return;
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
