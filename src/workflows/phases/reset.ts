/** Phase 7b: the previous version goes back on the original databases (restored when asked); traffic moves back. */
import type { RouteTarget } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import { databaseStep, siteStep, type DeploymentContext } from './context.js';
import { holdPublicTraffic, holdsWritesAtSwitch } from './hold-at-switch.js';
import { leaveMaintenance } from './leave-maintenance.js';
import { forgetReplays, replayWrites } from './replay-writes.js';
import { originalSlotId, slotRoute, startAndWarm, stopSlot } from './slots.js';
import { tellEnvironmentSettled } from './tell-environment.js';

export async function reset(ctx: DeploymentContext, rollbackDatabase: boolean): Promise<void> {
  const { request, plan, record } = ctx;
  const { control } = ctx.activities;
  record.enter('resetting');
  for (const site of plan.sites) {
    record.updateSite(site.name, { state: 'rolling-back' });
    await run(control.routePreview, `Close the preview of ${site.name}`, { ...siteStep(ctx, site.name), route: null });
    await stopSlot(ctx, originalSlotId(ctx, site.name, request.package.sha256), `Stop ${request.package.version} on ${site.name}`);
  }
  if (rollbackDatabase) await restoreDatabases(ctx);
  // readwrite-replay: the clone's writes go onto the original (all of them again when it was restored); no-op otherwise.
  await replayWrites(ctx);
  const previous = record.previousPackage;
  // readwrite-replay with a data plane that holds: every site readied first, switched only once traffic is held.
  const holding = holdsWritesAtSwitch(ctx);
  const switches: Array<() => Promise<void>> = [];
  const switchOrDefer = async (move: () => Promise<void>) => (holding ? void switches.push(move) : move());
  if (previous) {
    const prevRef = await run(control.describePackage, `Read package ${previous.version}`, { sha256: previous.sha256 });
    for (const site of plan.sites) {
      const slot = await startAndWarm(ctx, site, previous.sha256, 'original', false, site.warmupPath ?? prevRef.warmupPath);
      const route = slotRoute(slot, previous);
      const summary = `Send ${site.name} traffic back to ${previous.version}`;
      await switchOrDefer(async () => {
        await run(control.routePublicTraffic, summary, { ...siteStep(ctx, site.name), route, drainTimeoutMs: ctx.drainTimeoutMs });
        record.updateSite(site.name, { state: 'live', serving: slot.slotId, previewSlot: null });
        record.log(`Site ${site.name} serves ${previous.version} again`);
      });
    }
  } else {
    for (const site of plan.sites) {
      const route: RouteTarget = { kind: 'maintenance', message: `${site.name} has no live version` };
      await switchOrDefer(async () => {
        await run(control.routePublicTraffic, `Take ${site.name} offline`, {
          ...siteStep(ctx, site.name),
          route,
          drainTimeoutMs: ctx.drainTimeoutMs,
        });
        record.updateSite(site.name, { state: 'live', serving: null, previewSlot: null });
      });
    }
  }
  if (holding && (await holdPublicTraffic(ctx))) {
    // Traffic held (the clone drained): its last writes go onto the original before the previous version takes one.
    await replayWrites(ctx, true);
    for (const move of switches) await move();
  } else {
    for (const move of switches) await move();
    // The clone takes no more writes once traffic went back (drained): the last ones, and the sequences.
    await replayWrites(ctx, true);
  }
  await leaveMaintenance(ctx);
  await tellEnvironmentSettled(ctx, 'reset');
  record.enter('reset');
  const rolledBack = rollbackDatabase ? 'code and database rolled back' : 'code rolled back, database kept';
  record.log(`Deployment reset (${rolledBack})${previous ? `: ${request.environment} runs ${previous.version}` : ''}`);
}

async function restoreDatabases(ctx: DeploymentContext) {
  const { request, plan, record } = ctx;
  const inspection = await run(ctx.activities.control.inspectEnvironment, 'Look for restore points', { environment: request.environment });
  for (const db of plan.databases) {
    if (!inspection.databases[db.name]?.restorePoint.exists) {
      record.log(`Database ${db.name} has no restore point: it was not changed by this deployment`);
      continue;
    }
    record.log(`Restoring database ${db.name} to its restore point`);
    await run(ctx.activities.databaseWork.restoreDatabase, `Restore ${db.name}`, databaseStep(ctx, db.name));
    forgetReplays(ctx, db.name);
  }
}
