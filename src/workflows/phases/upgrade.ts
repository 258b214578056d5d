/** Phase 4: no old slot writes to the originals any more; take restore points, migrate, start the new version. */
import { patched } from '@temporalio/workflow';
import type { ServedPackage } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import { databaseStep, type DeploymentContext } from './context.js';
import { markHostLost, onHostStep, originalSlotId, slotRoute, startSlot, stopSlot } from './slots.js';

/** Before migrating, every slot on the originals stops, whatever left it there (a failed rolling deployment, say). */
export const STOP_EVERY_OLD_SLOT = 'stop-every-old-slot-before-migrating';

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
  if (patched(STOP_EVERY_OLD_SLOT)) await stopOtherSlotsOnOriginals(ctx);
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

/** No slot but the new version's may run on the originals while they are migrated (promise 2), on any host. */
async function stopOtherSlotsOnOriginals(ctx: DeploymentContext): Promise<void> {
  const { request, record } = ctx;
  for (const h of ctx.activities.slotHosts) {
    const listed = await onHostStep(
      h.name,
      () => run(h.host.listSlots, `List slots on host ${h.name}`, { environment: request.environment }),
      () => markHostLost(ctx, h.name),
    );
    const others = listed.filter((s) => s.state === 'running' && s.databases === 'original' && s.packageSha256 !== request.package.sha256);
    for (const slot of others) {
      record.log(`Stopping ${slot.slotId} (${slot.packageVersion}) on host ${h.name}: nothing but the new version runs on the originals`);
      await onHostStep(h.name, () => run(h.host.stopSlot, `Stop ${slot.slotId} on host ${h.name}`, { slotId: slot.slotId }));
      record.replicas.stopped(slot.slotId, h.name);
    }
  }
}
