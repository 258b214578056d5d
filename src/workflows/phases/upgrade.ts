/** Phase 4: no old slot writes to the originals any more; take restore points, migrate, start the new version. */
import type { ServedPackage } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import { databaseStep, type DeploymentContext } from './context.js';
import { originalSlotId, slotRoute, startSlot, stopSlot } from './slots.js';

export async function upgrade(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  const { databaseWork } = ctx.activities;
  record.enter('upgrade');
  const previous = record.previousPackage;
  if (previous) {
    for (const site of plan.sites) {
      record.updateSite(site.name, { state: 'upgrading' });
      await stopSlot(ctx, originalSlotId(ctx, site.name, previous.sha256), `Stop the old version of ${site.name}`);
    }
  }
  for (const db of plan.databases) {
    const step = databaseStep(ctx, db.name);
    record.log(`Taking a restore point of database ${db.name}`);
    await run(databaseWork.createRestorePoint, `Restore point of ${db.name}`, step);
    const migration = {
      ...step,
      packageSha256: request.package.sha256,
      ...(request.allowMissingMigrations ? { allowMissingMigrations: true } : {}),
    };
    const result = await run(databaseWork.applyMigrations, `Migrate ${db.name} to ${request.package.version}`, migration);
    record.log(
      result.applied.length ? `Applied migrations to ${db.name}: ${result.applied.join(', ')}` : `No new migrations for ${db.name}`,
    );
  }
  await startNewVersion(ctx);
}

/** The new version starts on each site's original databases, as its preview-to-be (no traffic yet). */
export async function startNewVersion(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  for (const site of plan.sites) {
    record.log(`Starting ${request.package.version} on site ${site.name}`);
    const spec = {
      environment: request.environment,
      site: site.name,
      packageSha256: request.package.sha256,
      databases: 'original' as const,
    };
    const slot = await startSlot(ctx, { ...spec, readOnly: false }, `Start ${request.package.version} on ${site.name}`);
    record.site(site.name).preview = slotRoute(slot, served(request.package));
    record.updateSite(site.name, { previewSlot: slot.slotId });
  }
}

function served(pkg: ServedPackage): ServedPackage {
  return { sha256: pkg.sha256, version: pkg.version };
}
