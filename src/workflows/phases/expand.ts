/**
 * Expand/contract mode (docs/data-safety.md), before verification: no clone. The expand migrations go to the live
 * databases; a fresh slot of the OLD version must warm up on the expanded schema before anything else happens (else
 * the expand migrations are undone where the package and engine can, and the deployment fails with no traffic moved);
 * then the new version starts beside the old one, on the same databases.
 */
import { ApplicationFailure, patched } from '@temporalio/workflow';
import type { ExpandContractPlan } from '../../engines/migration-phases.js';
import { slotIdFor } from '../../platform/agent/contract.js';
import { run } from '../activity-presets.js';
import { classify } from '../failure-classes.js';
import { databaseStep, type DeploymentContext } from './context.js';
import { slotRoute, startSlot, stopSlot, warm } from './slots.js';
import { startNewVersion } from './upgrade.js';

export const EXPAND_CONTRACT = 'expand-contract';

/** Per database: its pending expand and contract migrations, read in preflight. */
export type PhasedMigrations = Record<string, ExpandContractPlan & { engineCanUndo: boolean }>;

/** Only a request in this mode takes the path, so earlier histories never meet the patch. */
export function usesExpandContract(ctx: DeploymentContext): boolean {
  return ctx.request.mode === 'expand-contract' && patched(EXPAND_CONTRACT);
}

/**
 * Still in preflight: refused before anything moves when the mode cannot keep its promise. Null when no version is live
 * yet: nothing runs on the databases, so the deployment takes the ordinary path (every migration, in name order).
 */
export async function planExpandContract(ctx: DeploymentContext): Promise<PhasedMigrations | null> {
  const { request, plan, record } = ctx;
  if (!record.previousPackage) {
    record.log('Expand/contract mode with no live version: every migration is applied before the first version starts.');
    return null;
  }
  const held = plan.sites.filter((s) => s.role === 'maintenance-page').map((s) => s.name);
  if (held.length)
    throw refused(
      `site ${held.join(', ')} has role maintenance-page: its old and new versions must never run at once, and expand-contract ` +
        'mode starts the new version beside the old one. Deploy in readonly, readwrite or maintenance-page mode',
    );
  const inMaintenance = record
    .sites()
    .filter((s) => s.inMaintenance)
    .map((s) => s.plan.name);
  if (inMaintenance.length)
    throw refused(
      `site ${inMaintenance.join(', ')} is in maintenance mode from an earlier deployment: expand-contract mode starts from live ` +
        'sites. Reset the earlier deployment, or deploy in the mode it used',
    );
  const allow = request.allowMissingMigrations ? { allowMissingMigrations: true } : {};
  const phased: PhasedMigrations = {};
  for (const db of plan.databases) {
    const step = { ...databaseStep(ctx, db.name), packageSha256: request.package.sha256, ...allow };
    const p = await run(ctx.activities.control.planExpandContract, `Plan the expand and contract migrations of ${db.name}`, step);
    phased[db.name] = p;
    record.log(
      `Database ${db.name}: expand migrations ${p.expand.join(', ') || 'none'}; ` +
        `contract migrations after Complete ${p.contract.join(', ') || 'none'}`,
    );
    const notUndoable = p.engineCanUndo ? p.withoutUndo : p.expand;
    if (notUndoable.length)
      record.log(
        `Should the live version fail on the expanded schema, ${notUndoable.join(', ')} could not be undone ` +
          `(${p.engineCanUndo ? 'no undo script in expand/' : `the ${db.engine} engine cannot undo migrations`})`,
        'warn',
      );
  }
  record.log('Expand/contract mode: no clone, no maintenance, writes are never refused; the live version keeps serving until Complete.');
  return phased;
}

/** Applies the expand migrations to the live databases, then checks that the live version still works on them. */
export async function expand(ctx: DeploymentContext, phased: PhasedMigrations): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('expand');
  const applied: Record<string, string[]> = {};
  for (const db of plan.databases) {
    const migration = {
      ...databaseStep(ctx, db.name),
      packageSha256: request.package.sha256,
      phase: 'expand' as const,
      ...(request.allowMissingMigrations ? { allowMissingMigrations: true } : {}),
    };
    const result = await run(ctx.activities.databaseWork.applyMigrations, `Expand ${db.name} for ${request.package.version}`, migration);
    applied[db.name] = result.applied;
    record.log(
      result.applied.length
        ? `Applied expand migrations to ${db.name}, beside the live version: ${result.applied.join(', ')}`
        : `No new expand migrations for ${db.name}`,
    );
  }
  const previous = record.previousPackage!;
  try {
    await checkOldVersion(ctx);
  } catch (error) {
    const failure = classify(error);
    const message =
      failure.class === 'transient'
        ? `could not check that the old version ${previous.version} works on the expanded schema: ${failure.message}`
        : `the old version ${previous.version} does not work on the expanded schema: ${failure.message}`;
    record.log(message, 'error');
    const remediation = await undoExpand(ctx, phased, applied);
    const type = failure.class === 'transient' ? 'transient' : 'migration-failed';
    throw ApplicationFailure.create({ type, message, nonRetryable: true, details: [{ remediation }] });
  }
}

/** The new version starts on the same databases, beside the live version, which keeps every site's traffic. */
export async function startBeside(ctx: DeploymentContext): Promise<void> {
  ctx.record.enter('upgrade');
  ctx.record.log(`Starting ${ctx.request.package.version} beside the live version, on the same databases`);
  await startNewVersion(ctx);
}

/** A fresh slot of the live package, never routed, must warm up on the expanded schema (a running one may have cached it). */
async function checkOldVersion(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  const previous = record.previousPackage!;
  const prevRef = await run(ctx.activities.control.describePackage, `Read package ${previous.version}`, { sha256: previous.sha256 });
  for (const site of plan.sites) {
    const spec = { environment: request.environment, site: site.name, packageSha256: previous.sha256, databases: 'original' as const };
    const slotId = slotIdFor({ ...spec, check: true });
    // One left by an interrupted attempt may have started before the expand migrations: start afresh.
    await stopSlot(ctx, slotId, `Stop a leftover check slot of ${site.name}`);
    record.log(
      `Checking that ${previous.version} still works on the expanded schema: a fresh slot of it on site ${site.name}, never routed`,
    );
    try {
      const summary = `Start ${previous.version} on the expanded schema (${site.name})`;
      const slot = await startSlot(ctx, { ...spec, readOnly: false, check: true }, summary);
      await warm(ctx, site, slotRoute(slot), site.warmupPath ?? prevRef.warmupPath);
    } finally {
      await stopSlot(ctx, slotId, `Stop the check slot of ${site.name}`);
    }
    record.log(`${previous.version} works on the expanded schema on site ${site.name}`);
  }
}

/** Reverts the expand migrations this deployment applied, where the package has undo scripts and the engine can; returns what to do. */
async function undoExpand(ctx: DeploymentContext, phased: PhasedMigrations, applied: Record<string, string[]>): Promise<string> {
  const { request, plan, record } = ctx;
  const stay: string[] = [];
  for (const db of plan.databases) {
    const names = applied[db.name] ?? [];
    if (names.length === 0) continue;
    const p = phased[db.name]!;
    const withoutUndo = names.filter((n) => p.withoutUndo.includes(n));
    const cannot = !p.engineCanUndo
      ? `the ${db.engine} engine cannot undo migrations`
      : withoutUndo.length
        ? `no undo script for ${withoutUndo.join(', ')} in expand/`
        : null;
    if (cannot) {
      stay.push(`${db.name}: ${names.join(', ')} (${cannot})`);
      continue;
    }
    try {
      const step = { ...databaseStep(ctx, db.name), packageSha256: request.package.sha256, names };
      const result = await run(ctx.activities.databaseWork.undoMigrations, `Undo the expand migrations of ${db.name}`, step);
      record.log(`Undid the expand migrations of ${db.name}: ${result.undone.join(', ') || 'none was applied'}`);
    } catch (error) {
      stay.push(`${db.name}: ${names.join(', ')} (their undo failed: ${classify(error).message})`);
    }
  }
  const fix =
    'Make the expand migrations backward compatible (the old version must keep working on them: add nullable columns and ' +
    'tables, never rename or drop what it uses; move that to contract/), then deploy again.';
  if (stay.length === 0) {
    record.log('The expand migrations were undone: the databases are as they were before this deployment.');
    return `No traffic moved and the expand migrations were undone with their undo scripts: the environment is as it was. ${fix}`;
  }
  record.log(`These expand migrations stay applied, under the live version: ${stay.join('; ')}`, 'error');
  return (
    `No traffic moved, but these expand migrations stay applied and the live version runs on them: ${stay.join('; ')}. ` +
    `Check the live site now and revert them by hand if it fails (and remove their rows from cutover_migrations). ${fix}`
  );
}

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'invalid-input', message, nonRetryable: true });
}
