/** Phase 7a: public traffic moves to the new version; clones stop; temporary databases go. */
import { run } from '../activity-presets.js';
import { bake, bakeFor } from './bake.js';
import { siteStep, type DeploymentContext } from './context.js';
import { holdPublicTraffic, holdsWritesAtSwitch } from './hold-at-switch.js';
import { leaveMaintenance } from './leave-maintenance.js';
import { replayWrites } from './replay-writes.js';
import { tellEnvironmentSettled } from './tell-environment.js';

export async function complete(ctx: DeploymentContext): Promise<void> {
  const { request, record } = ctx;
  record.enter('completing');
  // readwrite-replay: what the clone accepted so far, then (the switch drained it) the tail; no-ops in other modes.
  await replayWrites(ctx);
  if (holdsWritesAtSwitch(ctx) && (await holdPublicTraffic(ctx))) {
    // Traffic held (the clone drained): the tail goes onto the original before the new version takes a write.
    await replayWrites(ctx, true);
    await moveTrafficToNewVersion(ctx);
  } else {
    await moveTrafficToNewVersion(ctx);
    await replayWrites(ctx, true);
  }
  // With a bake the clones (and their temporary databases) stay until it ends: a breach sends the traffic back to them.
  const baking = bakeFor(ctx);
  if (baking && (await bake(ctx, baking)) === 'rolled-back') return;
  await leaveMaintenance(ctx);
  await tellEnvironmentSettled(ctx, 'completed');
  record.enter('completed');
  record.log(`Deployment completed: ${request.environment} runs ${request.package.version}`);
}

/** Each site's public traffic goes to the new version (requests in flight drained); its preview closes. */
export async function moveTrafficToNewVersion(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  const { control } = ctx.activities;
  for (const site of plan.sites) {
    const preview = record.site(site.name).preview!;
    const step = siteStep(ctx, site.name);
    record.updateSite(site.name, { state: 'going-live' });
    await run(control.routePublicTraffic, `Send ${site.name} traffic to ${request.package.version}`, {
      ...step,
      route: preview,
      drainTimeoutMs: ctx.drainTimeoutMs,
    });
    await run(control.routePreview, `Close the preview of ${site.name}`, { ...step, route: null });
    record.updateSite(site.name, { state: 'live', serving: preview.kind === 'slot' ? preview.slotId : null, previewSlot: null });
    record.log(`Site ${site.name} now serves ${request.package.version}`);
  }
}
