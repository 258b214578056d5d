/** Starting, warming up and stopping slots on the environment's host. */
import type { ActivityOptions } from '@temporalio/workflow';
import type { RouteTarget, SitePlan } from '../../activities/contract.js';
import { slotIdFor, type SlotInfo } from '../../platform/agent/contract.js';
import { run } from '../activity-presets.js';
import type { DeploymentContext } from './context.js';

export async function startAndWarm(
  ctx: DeploymentContext,
  site: SitePlan,
  packageSha256: string,
  databases: 'original' | 'temporary',
  readOnly: boolean,
  warmupPath: string,
): Promise<SlotInfo> {
  const slot = await run(ctx.activities.host.startSlot, `Start slot of ${site.name} on ${databases} databases`, {
    environment: ctx.request.environment,
    site: site.name,
    packageSha256,
    databases,
    readOnly,
  });
  await warm(ctx, site, { kind: 'slot', slotId: slot.slotId, port: slot.port }, warmupPath);
  return slot;
}

/** A slot that fails its warm-up never gets traffic (promise 1), and is stopped so it does not linger. */
export async function warm(ctx: DeploymentContext, site: SitePlan, route: RouteTarget, path: string): Promise<void> {
  if (route.kind !== 'slot') return;
  try {
    await ctx.activities.warmup.warmUpSlot.executeWithOptions(
      { summary: `Warm up ${route.slotId}`, startToCloseTimeout: site.warmupTimeoutMs + 30_000 } as ActivityOptions,
      [{ slotId: route.slotId, path, timeoutMs: site.warmupTimeoutMs }],
    );
  } catch (error) {
    ctx.record.log(`Slot ${route.slotId} failed its warm-up on ${path}: stopping it`, 'error');
    await run(ctx.activities.host.stopSlot, `Stop the failed slot ${route.slotId}`, { slotId: route.slotId }).catch(() => undefined);
    throw error;
  }
}

/** The slot of a package on a site's original databases (the live version, or the new one). */
export function originalSlotId(ctx: DeploymentContext, site: string, packageSha256: string): string {
  return slotIdFor({ environment: ctx.request.environment, site, packageSha256, databases: 'original' });
}

export async function stopSlot(ctx: DeploymentContext, slotId: string, summary: string): Promise<void> {
  await run(ctx.activities.host.stopSlot, summary, { slotId });
}
