/**
 * Bake after Complete: the previous version (the clones, or the maintenance page) stays ready while the new version
 * serves; the router's counts of the new live slot are read every interval, and a breach of the thresholds sends
 * public traffic back at once (code only: the databases keep their migrations and every write). Never a promotion.
 */
import { patched, sleep, type ActivityOptions } from '@temporalio/workflow';
import type { RouteTarget } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import { describeStats } from '../analysis-definitions.js';
import { bakeBreaches, type BakeSpec, type BakeTraffic } from '../bake-definitions.js';
import { classify } from '../failure-classes.js';
import { siteStep, type DeploymentContext } from './context.js';
import { originalSlotId, slotRoute, startAndWarm, stopSlot } from './slots.js';
import { tellEnvironmentSettled } from './tell-environment.js';

/** Deployments that started before bake existed replay without its commands; only deployments with a bake reach the patch. */
export const BAKE_AFTER_COMPLETE = 'bake-after-complete';

/** The request's bake, else the environment's; null when there is none, it is turned off, or nothing could take the traffic back. */
export function bakeFor(ctx: DeploymentContext): BakeSpec | null {
  const { request, plan, record } = ctx;
  if (request.bake === false) {
    if (plan.bake) record.log('The bake after Complete is turned off for this deployment by its request');
    return null;
  }
  const spec = request.bake ?? plan.bake ?? null;
  if (!spec) return null;
  if (!record.previousPackage) {
    record.log('No bake after Complete: no previous version ran, so nothing could take the traffic back');
    return null;
  }
  return patched(BAKE_AFTER_COMPLETE) ? spec : null;
}

/** What served before Complete: the clones (or maintenance page), or in expand-contract mode the old version itself, beside. */
export type PreviousVersion = 'clones' | 'beside';

/** 'passed': the new version held for the whole bake; 'rolled-back': a breach sent the traffic back, and the deployment ended so. */
export async function bake(
  ctx: DeploymentContext,
  spec: BakeSpec,
  previous: PreviousVersion = 'clones',
): Promise<'passed' | 'rolled-back'> {
  const { request, plan, record } = ctx;
  const slots = record
    .sites()
    .filter((s) => s.plan.role === 'zdd' && s.status.serving && s.status.serving !== 'maintenance-page')
    .map((s) => ({ site: s.plan.name, slotId: s.status.serving! }));
  if (slots.length === 0) {
    record.log('No bake after Complete: no zdd site serves a slot whose traffic could be measured');
    return 'passed';
  }
  record.enter('baking');
  record.bake = { state: 'watching', spec, startedAt: record.at(), endedAt: null, intervals: 0, last: [], breach: null };
  const limits = [
    spec.maxErrorRate === null ? null : `error rate above ${Math.round(spec.maxErrorRate * 1000) / 10}%`,
    spec.maxP99Ms === null ? null : `p99 above ${spec.maxP99Ms} ms`,
  ].filter(Boolean);
  record.log(
    `Bake: ${record.previousPackage!.version} stays ready for ${spec.durationMs} ms while ${request.package.version} serves; ` +
      `the new live slot is measured every ${spec.intervalMs} ms, and ${limits.join(' or ')} in an interval sends the traffic back at once`,
  );
  // Measured intervals add up to the duration (each one's reads make the bake a little longer, never shorter).
  for (let left = spec.durationMs; left > 0;) {
    const intervalMs = Math.min(spec.intervalMs, left);
    left -= intervalMs;
    let traffic: BakeTraffic[];
    try {
      const options = {
        summary: `Measure the traffic of ${slots.map((s) => s.site).join(', ')} for ${intervalMs} ms`,
        startToCloseTimeout: intervalMs + plan.timeouts.stepMs,
      } as ActivityOptions;
      traffic = await ctx.activities.bake.measureLiveTraffic.executeWithOptions(options, [
        { environment: request.environment, slots, intervalMs },
      ]);
    } catch (error) {
      // An unread interval decides nothing: the bake goes on, the operator is told.
      record.log(`Bake: the traffic could not be measured: ${classify(error).message}`, 'warn');
      await sleep(intervalMs);
      continue;
    }
    record.bake = { ...record.bake!, intervals: record.bake!.intervals + 1, last: traffic };
    const breaches = bakeBreaches(spec, traffic);
    if (breaches.length > 0) {
      await rollBack(ctx, breaches.join('; '), traffic, previous);
      return 'rolled-back';
    }
  }
  record.bake = { ...record.bake!, state: 'passed', endedAt: record.at() };
  const seen = record.bake.last.map((t) => `${t.site}: ${describeStats(t)}`).join('; ');
  record.log(`Bake passed: ${record.bake.intervals} intervals without a breach${seen ? ` (last interval ${seen})` : ''}`);
  return 'passed';
}

/** Public traffic goes back to what served it before Complete, at once; then the new version stops. */
async function rollBack(ctx: DeploymentContext, breach: string, traffic: BakeTraffic[], served: PreviousVersion): Promise<void> {
  const { request, record } = ctx;
  const previous = record.previousPackage!;
  record.log(`Bake breached: ${breach}. Sending public traffic back to ${previous.version} at once (code only)`, 'error');
  for (const t of traffic) record.log(`Bake evidence: site ${t.site} slot ${t.slotId}: ${describeStats(t)}`, 'error');
  if (served === 'beside') await backToOldVersion(ctx);
  else await backToClones(ctx);
  record.bake = { ...record.bake!, state: 'rolled-back', endedAt: record.at(), breach };
  for (const site of record.sites()) {
    await stopSlot(
      ctx,
      originalSlotId(ctx, site.plan.name, request.package.sha256),
      `Stop ${request.package.version} on ${site.plan.name}`,
    );
  }
  await tellEnvironmentSettled(ctx, 'reset');
  record.enter('rolled-back');
  const after =
    served === 'beside'
      ? `${previous.version} serves again on the expanded schema; no contract migration ran`
      : `the sites are in maintenance mode as before Complete (the clones serve)`;
  record.log(
    `Deployment rolled back automatically after Complete: ${request.package.version} breached the bake's thresholds; ${after}. ` +
      'The databases keep the new migrations and every write; deploy a fixed package to roll forward.',
    'error',
  );
}

/** Expand-contract: the old version still runs on the original databases (stopped only after the bake); its route again. */
async function backToOldVersion(ctx: DeploymentContext): Promise<void> {
  const { record } = ctx;
  const previous = record.previousPackage!;
  const ref = await run(ctx.activities.control.describePackage, `Read package ${previous.version}`, { sha256: previous.sha256 });
  for (const site of record.sites()) {
    const name = site.plan.name;
    record.updateSite(name, { state: 'rolling-back' });
    // The running slot is found again (a start is idempotent), and answers its warm-up at once.
    const slot = await startAndWarm(ctx, site.plan, previous.sha256, 'original', false, site.plan.warmupPath ?? ref.warmupPath);
    const route = slotRoute(slot, previous);
    const summary = `Send ${name} traffic back to ${previous.version}`;
    await run(ctx.activities.control.routePublicTraffic, summary, { ...siteStep(ctx, name), route, drainTimeoutMs: ctx.drainTimeoutMs });
    record.updateSite(name, { state: 'live', serving: slot.slotId, previewSlot: null });
    record.log(`Site ${name} serves ${previous.version} again`, 'error');
  }
}

async function backToClones(ctx: DeploymentContext): Promise<void> {
  const { request, record } = ctx;
  const previous = record.previousPackage!;
  for (const site of record.sites()) {
    const name = site.plan.name;
    const route: RouteTarget = site.cloneSlot ?? {
      kind: 'maintenance',
      message: `${name} is being upgraded to ${request.package.version}`,
      package: previous,
    };
    record.updateSite(name, { state: 'rolling-back' });
    const summary = site.cloneSlot ? `Send ${name} traffic back to its clone` : `Show the maintenance page on ${name} again`;
    await run(ctx.activities.control.routePublicTraffic, summary, { ...siteStep(ctx, name), route, drainTimeoutMs: ctx.drainTimeoutMs });
    site.inMaintenance = true;
    record.updateSite(name, { state: 'in-maintenance', serving: site.cloneSlot ? site.cloneSlot.slotId : 'maintenance-page' });
  }
  record.log(`Public traffic is on ${previous.version} again: the sites are in maintenance mode, as before Complete`, 'error');
}
