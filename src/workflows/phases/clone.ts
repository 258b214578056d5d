/** Phase 2: copy each database to its temporary database; readonly mode makes the copies refuse writes. */
import { run } from '../activity-presets.js';
import { databaseStep, type DeploymentContext } from './context.js';

/** A clone is needed when a zdd site not yet in maintenance will be served by one, and there are databases to copy. */
export function needsClones({ request, plan, record }: DeploymentContext): boolean {
  if (request.mode === 'maintenance-page' || plan.databases.length === 0) return false;
  return plan.sites.some((s) => s.role === 'zdd' && !record.site(s.name).inMaintenance);
}

export async function cloneDatabases(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  const { control, databaseWork } = ctx.activities;
  record.enter('clone');
  const inspection = await run(control.inspectEnvironment, 'Check for existing temporary databases', { environment: request.environment });
  const serving = record.sites().some((s) => s.inMaintenance && s.cloneSlot);
  for (const db of plan.databases) {
    const step = databaseStep(ctx, db.name);
    const exists = inspection.databases[db.name]?.temporary.exists ?? false;
    if (exists && serving) {
      record.log(`Temporary copy of database ${db.name} already serves a clone: keeping it`);
    } else {
      if (exists) {
        // Nobody reads it, and it is older than the live database: copy afresh.
        record.log(`Dropping a stale temporary copy of database ${db.name} left by an earlier deployment`);
        await run(control.dropTemporaryDatabase, `Drop the stale copy of ${db.name}`, step);
      }
      record.log(`Copying database ${db.name} to a temporary database`);
      const copy = await run(databaseWork.cloneDatabase, `Clone database ${db.name}`, step);
      // Histories recorded before copies could follow carry no result.
      if (copy?.following) record.log(`The copy of ${db.name} follows the original's writes until traffic moves`);
      else if (copy?.snapshotReason) record.log(`The copy of ${db.name} is a snapshot: ${copy.snapshotReason}`, 'warn');
      for (const table of copy?.notFollowed ?? []) record.log(`The copy of ${db.name} does not follow table ${table}`, 'warn');
    }
    if (request.mode === 'readonly') await run(control.makeCloneReadOnly, `Make the copy of ${db.name} read-only`, step);
  }
}
