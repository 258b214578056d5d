/** Clones stop only after traffic left them; temporary databases are dropped only after that (promise 3). */
import { run } from '../activity-presets.js';
import { databaseStep, type DeploymentContext } from './context.js';
import { stopSlot } from './slots.js';

export async function leaveMaintenance(ctx: DeploymentContext): Promise<void> {
  const { control } = ctx.activities;
  for (const site of ctx.record.sites()) {
    const clone = site.cloneSlot;
    if (clone?.kind === 'slot') await stopSlot(ctx, clone.slotId, `Stop the clone of ${site.plan.name}`);
  }
  for (const db of ctx.plan.databases) {
    const step = databaseStep(ctx, db.name);
    await run(control.dropTemporaryDatabase, `Drop the temporary copy of ${db.name}`, step);
    await run(control.dropRestorePoint, `Drop the restore point of ${db.name}`, step);
  }
}
