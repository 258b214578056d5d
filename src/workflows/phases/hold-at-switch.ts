/**
 * readwrite-replay: public traffic is held for the moment of the switch (docs/data-safety.md), so the final replay runs
 * while the clone takes no write and the new version none yet: no write reaches the new version a moment late.
 */
import { patched } from '@temporalio/workflow';
import { run } from '../activity-presets.js';
import { siteStep, type DeploymentContext } from './context.js';
import { capturing } from './replay-writes.js';

export const HOLD_WRITES_AT_SWITCH = 'hold-writes-at-switch';
/** How long a held request waits for the switch before the maintenance page: the final replay plus the switch. */
export const HOLD_TIMEOUT_MS = 15_000;

/** Only a readwrite-replay request whose clone captures writes reaches the patch, so other histories never meet it. */
export function holdsWritesAtSwitch(ctx: DeploymentContext): boolean {
  return capturing(ctx) && patched(HOLD_WRITES_AT_SWITCH);
}

/**
 * Holds each site's public traffic until its next switch (the clone drains meanwhile). False when the data plane
 * cannot hold (HAProxy, nginx): nothing is held, and the switch comes before the final replay as without the patch.
 */
export async function holdPublicTraffic(ctx: DeploymentContext): Promise<boolean> {
  const { plan, record } = ctx;
  for (const site of plan.sites) {
    const { held } = await run(ctx.activities.control.holdPublicTraffic, `Hold ${site.name} traffic for the switch`, {
      ...siteStep(ctx, site.name),
      timeoutMs: HOLD_TIMEOUT_MS,
      drainTimeoutMs: ctx.drainTimeoutMs,
    });
    if (!held) {
      record.log(`The data plane cannot hold traffic: the final replay follows the switch (docs/data-safety.md)`);
      return false;
    }
  }
  record.log('Public traffic is held for the switch: the clone takes no more writes, its last ones are replayed first');
  return true;
}
