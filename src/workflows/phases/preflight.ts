/** Phase 1: validate, and read the environment's real state (an environment left in maintenance is recognised). */
import { patched } from '@temporalio/workflow';
import type { RouteTarget, ServedPackage } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import { databaseStep, type DeploymentContext } from './context.js';
import { routedCopies } from '../replicas.js';
import { refuseWithoutCapture, usesWriteReplay } from './replay-writes.js';

export async function preflight(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  const { control, host } = ctx.activities;
  record.log(
    `Deployment ${request.deploymentId} of ${request.package.name} ${request.package.version} to ${request.environment} in ${request.mode} mode`,
  );
  if (request.mode === 'readwrite') {
    const warning = 'ReadWrite mode: writes accepted by the clone while the deployment runs are lost when it ends.';
    record.warnings.push(warning);
    record.log(warning, 'warn');
  }
  if (usesWriteReplay(ctx)) refuseWithoutCapture(ctx);
  const inspection = await run(control.inspectEnvironment, 'Inspect router and databases', { environment: request.environment });
  const slots = await run(host.listSlots, 'List slots on the host', { environment: request.environment });
  record.log(`Inspected the environment: ${describeRoutes(inspection.routes)}`);
  const served: ServedPackage[] = [];
  for (const site of plan.sites) {
    const live = inspection.routes[site.name]?.live ?? null;
    const liveSlot = live?.kind === 'slot' ? slots.find((s) => s.slotId === live.slotId) : undefined;
    const pkg = live?.package ?? (liveSlot ? { sha256: liveSlot.packageSha256, version: liveSlot.packageVersion } : undefined);
    if (pkg) served.push(pkg);
    const liveClone = live?.kind === 'slot' && liveSlot?.databases === 'temporary' ? { ...live, kind: 'slot' as const } : null;
    record.trackSite(site, live ? (live.kind === 'slot' ? live.slotId : 'maintenance-page') : null, liveClone);
    // The copies the live route sends requests to serve (the router's word); the steps that follow keep them current.
    if (live) for (const copy of routedCopies(live, ctx.activities.slotHosts)) record.replicas.set(site.name, copy, 'serving');
  }
  const distinct = [...new Map(served.map((p) => [p.sha256, p])).values()];
  if (distinct.length > 1) {
    record.log(
      `Sites serve different packages (${distinct.map((p) => p.version).join(', ')}); ${distinct[0]!.version} is taken as the previous version`,
      'warn',
    );
  }
  record.previousPackage = distinct[0] ?? null;
  if (!record.previousPackage) record.log('No version is live yet: first deployment of this environment, no clone needed.');
  else record.log(`Live version: ${record.previousPackage.version}`);
  const resuming = record
    .sites()
    .filter((s) => s.inMaintenance)
    .map((s) => s.plan.name);
  if (resuming.length) record.log(`Already in maintenance mode from an earlier deployment: ${resuming.join(', ')}. Resuming from there.`);
  if (patched('check-migrations-in-preflight')) await checkMigrations(ctx);
}

/** A package older than the database is refused here, before any traffic moves, unless allowed. */
async function checkMigrations(ctx: DeploymentContext) {
  const { request, record } = ctx;
  const allow = request.allowMissingMigrations ? { allowMissingMigrations: true } : {};
  for (const db of ctx.plan.databases) {
    const step = { ...databaseStep(ctx, db.name), packageSha256: request.package.sha256, ...allow };
    const { missing } = await run(
      ctx.activities.control.checkMigrations,
      `Check ${db.name}'s migrations against ${request.package.version}`,
      step,
    );
    if (missing.length)
      record.log(`Database ${db.name} applied migrations this package lacks, allowed on purpose: ${missing.join(', ')}`, 'warn');
  }
}

function describeRoutes(routes: Record<string, { live: RouteTarget | null }>): string {
  const parts = Object.entries(routes).map(
    ([site, r]) =>
      `${site} ${r.live === null ? 'serves nothing' : r.live.kind === 'maintenance' ? 'shows the maintenance page' : `serves ${r.live.slotId}`}`,
  );
  return parts.join(', ') || 'no sites';
}
