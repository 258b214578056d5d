/**
 * Expand/contract mode (docs/data-safety.md), after the decision. Complete: traffic moves to the new version (no
 * maintenance, no read-only moment), the old version stops, and only then do the contract migrations run. Reset: traffic
 * goes back to the old version; the expand migrations stay, since the old version was checked to work on them.
 */
import { run } from '../activity-presets.js';
import { bake, bakeFor } from './bake.js';
import { canaryEndedBySwitch, removeCanary } from './canary.js';
import { moveTrafficToNewVersion } from './complete.js';
import { databaseStep, type DeploymentContext } from './context.js';
import type { PhasedMigrations } from './expand.js';
import { reset } from './reset.js';
import { originalSlotId, stopSlot } from './slots.js';
import { tellEnvironmentSettled } from './tell-environment.js';

export async function completeAndContract(ctx: DeploymentContext, phased: PhasedMigrations): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('completing');
  await moveTrafficToNewVersion(ctx);
  canaryEndedBySwitch(ctx);
  // With a bake the old version keeps running beside the new one until it ends; the contract migrations wait for it.
  const baking = bakeFor(ctx);
  if (baking && (await bake(ctx, baking, 'beside')) === 'rolled-back') return;
  const previous = record.previousPackage;
  // No old version may run when the contract migrations take away what it relies on (promise 2).
  if (previous) {
    for (const site of plan.sites) {
      await stopSlot(ctx, originalSlotId(ctx, site.name, previous.sha256), `Stop ${previous.version} on ${site.name}`);
    }
    record.log(`${previous.version} stopped on every site: no old version runs`);
  }
  record.enter('contract');
  for (const db of plan.databases) {
    if (!phased[db.name]?.contract.length) {
      record.log(`No contract migrations for ${db.name}`);
      continue;
    }
    const migration = {
      ...databaseStep(ctx, db.name),
      packageSha256: request.package.sha256,
      phase: 'contract' as const,
      ...(request.allowMissingMigrations ? { allowMissingMigrations: true } : {}),
    };
    const result = await run(ctx.activities.databaseWork.applyMigrations, `Contract ${db.name} for ${request.package.version}`, migration);
    record.log(
      result.applied.length
        ? `Applied contract migrations to ${db.name}: ${result.applied.join(', ')}`
        : `No new contract migrations for ${db.name}`,
    );
  }
  await tellEnvironmentSettled(ctx, 'completed');
  record.enter('completed');
  record.log(`Deployment completed: ${request.environment} runs ${request.package.version}`);
}

/** Code only: no restore point was taken, and the writes accepted meanwhile (by either version) are kept. */
export async function resetKeepingExpand(ctx: DeploymentContext): Promise<void> {
  const { record } = ctx;
  // A canary (none in deployments older than canary steps) sends no client to the version about to stop.
  await removeCanary(ctx);
  if (record.decision?.rollbackDatabase)
    record.log('Expand/contract mode rolls back the code only: no restore point was taken, every write is kept', 'warn');
  record.log('The expand migrations stay: the live version was checked to work on them before any traffic moved');
  await reset(ctx, false);
}
