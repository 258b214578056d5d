/**
 * Phase 3: clones (or the maintenance page) take public traffic. Every clone is started and warmed up
 * before any traffic moves, so a clone that cannot start leaves every site exactly as it was.
 */
import { patched } from '@temporalio/workflow';
import type { RouteTarget, ServedPackage, SitePlan } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import type { SiteProgress } from '../deployment-record.js';
import { classify, withSite } from '../failure-classes.js';
import { databaseStep, siteStep, type DeploymentContext } from './context.js';
import { startWriteCapture, usesWriteReplay } from './replay-writes.js';
import { slotRoute, startAndWarm, stopSlot } from './slots.js';

export async function enterMaintenance(ctx: DeploymentContext): Promise<void> {
  const { request, record } = ctx;
  record.enter('enter-maintenance');
  const previous = record.previousPackage!;
  const prevRef = await run(ctx.activities.control.describePackage, `Read package ${previous.version}`, { sha256: previous.sha256 });
  const entering = record.sites().filter((s) => !s.inMaintenance);
  const servedByClone = (s: SiteProgress) => s.plan.role === 'zdd' && request.mode !== 'maintenance-page';
  for (const site of entering) record.updateSite(site.plan.name, { state: 'entering-maintenance' });
  if (!patched('warm-clones-before-switch')) return enterMaintenanceSiteBySite(ctx, entering, prevRef.warmupPath);

  const clones = await settle(entering.filter(servedByClone), (site) => startClone(ctx, site, prevRef.warmupPath));
  if (clones.length) {
    for (const site of entering)
      if (site.cloneSlot) await stopSlot(ctx, site.cloneSlot.slotId, `Stop the unused clone of ${site.plan.name}`);
    for (const site of entering) Object.assign(site, { cloneSlot: null });
    for (const site of entering) record.updateSite(site.plan.name, { state: 'live' });
    await dropUnservedCopies(ctx);
    report(ctx, clones);
  }
  // A clone that takes writes must stop following first: a replicated row could take a key it already handed out.
  const followUntilSwitched = request.mode === 'readonly';
  if (!followUntilSwitched && entering.some((s) => s.cloneSlot)) await stopFollowingOriginals(ctx);
  // readwrite-replay: every write the clone accepts is captured, from before it takes any.
  if (usesWriteReplay(ctx)) await startWriteCapture(ctx);
  const switches = await settle(entering, async (site) => {
    if (!servedByClone(site)) record.log(`Putting site ${site.plan.name} in maintenance mode`);
    await switchToMaintenance(ctx, site, previous);
  });
  if (switches.length) report(ctx, switches);
  record.log('All sites in this deployment are now in maintenance mode');
  // Read-only clones follow until traffic left the originals: a reader never loses sight of an accepted write.
  if (followUntilSwitched && entering.some((s) => s.cloneSlot)) await stopFollowingOriginals(ctx);
}

/** Traffic has left the originals: each copy takes what they committed until now, then follows them no more. */
async function stopFollowingOriginals(ctx: DeploymentContext) {
  for (const db of ctx.plan.databases) {
    const summary = `Stop ${db.name}'s copy following the original`;
    const stopped = await run(ctx.activities.databaseWork.stopFollowingOriginal, summary, databaseStep(ctx, db.name));
    if (!stopped.wasFollowing) continue;
    if (stopped.caughtUp)
      ctx.record.log(`The temporary copy of ${db.name} has every write the original accepted until traffic moved; it follows it no more`);
    else
      ctx.record.log(
        `The temporary copy of ${db.name} stopped following the original before it caught up: recent writes may be missing on it`,
        'warn',
      );
  }
}

/** The first release entered maintenance one site at a time, each switched as soon as its clone was warm. */
async function enterMaintenanceSiteBySite(ctx: DeploymentContext, entering: SiteProgress[], packageWarmupPath: string) {
  const { request, record } = ctx;
  const previous = record.previousPackage!;
  const failed = await settle(entering, async (site) => {
    if (site.plan.role === 'zdd' && request.mode !== 'maintenance-page') {
      await startClone(ctx, site, packageWarmupPath);
    } else {
      record.log(`Putting site ${site.plan.name} in maintenance mode`);
    }
    await switchToMaintenance(ctx, site, previous);
  });
  if (failed.length) report(ctx, failed);
  record.log('All sites in this deployment are now in maintenance mode');
}

/** Starts the live version on the temporary databases for a site and warms it up; the clone gets no traffic yet. */
async function startClone(ctx: DeploymentContext, site: SiteProgress, packageWarmupPath: string) {
  const { request, record } = ctx;
  const previous = record.previousPackage!;
  record.log(`Enabling zero downtime deployment mode ${request.mode} on site ${site.plan.name}`);
  const readOnly = request.mode === 'readonly';
  const slot = await startAndWarm(ctx, site.plan, previous.sha256, 'temporary', readOnly, warmupPath(site.plan, packageWarmupPath));
  site.cloneSlot = slotRoute(slot, previous);
}

async function switchToMaintenance(ctx: DeploymentContext, site: SiteProgress, previous: ServedPackage) {
  const name = site.plan.name;
  const route: RouteTarget = site.cloneSlot ?? {
    kind: 'maintenance',
    message: `${name} is being upgraded to ${ctx.request.package.version}`,
    package: previous,
  };
  const summary = site.cloneSlot ? `Send ${name} traffic to its clone` : `Show the maintenance page on ${name}`;
  await run(ctx.activities.control.routePublicTraffic, summary, { ...siteStep(ctx, name), route, drainTimeoutMs: ctx.drainTimeoutMs });
  site.inMaintenance = true;
  ctx.record.updateSite(name, { state: 'in-maintenance', serving: site.cloneSlot ? site.cloneSlot.slotId : 'maintenance-page' });
}

interface SiteFailure {
  site: string;
  error: unknown;
}

/** Runs the work for every site at once; returns the sites that failed. */
async function settle(sites: SiteProgress[], work: (site: SiteProgress) => Promise<void>): Promise<SiteFailure[]> {
  const outcomes = await Promise.allSettled(sites.map(work));
  return outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ site: sites[i]!.plan.name, error: o.reason as unknown }] : []));
}

/** Logs each failed site and the sites left in maintenance, then fails the deployment on the first. */
function report(ctx: DeploymentContext, failed: SiteFailure[]): never {
  const { record } = ctx;
  for (const f of failed) {
    const c = classify(f.error);
    record.updateSite(f.site, { state: 'failed', error: c.message });
    record.log(`Site ${f.site} could not enter maintenance mode: ${c.message}`, 'error');
  }
  const inMaintenance = record
    .sites()
    .filter((s) => s.inMaintenance)
    .map((s) => s.plan.name);
  if (inMaintenance.length) record.log(`Sites left in maintenance mode: ${inMaintenance.join(', ')}`, 'warn');
  else record.log('No site changed: every site still serves its live version.', 'warn');
  record.log('At least one maintenance mode operation failed. Investigate the logs and try again.', 'error');
  throw withSite(failed[0]!.error, failed[0]!.site);
}

/** No clone serves the temporary copies: drop them, so the environment is exactly as it was. */
async function dropUnservedCopies(ctx: DeploymentContext) {
  if (ctx.record.sites().some((s) => s.inMaintenance && s.cloneSlot)) return;
  for (const db of ctx.plan.databases) {
    await run(ctx.activities.control.dropTemporaryDatabase, `Drop the unused copy of ${db.name}`, databaseStep(ctx, db.name));
  }
}

function warmupPath(site: SitePlan, packageWarmupPath: string): string {
  return site.warmupPath ?? packageWarmupPath;
}
