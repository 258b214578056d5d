/**
 * Rolling strategy: no clone. Hosts are upgraded at most maxUnavailable at a time: each host's replica leaves every
 * site's live route (the switch drains it), its old slots stop, the new version starts and warms up there, and the
 * replica comes back into the route before the next batch. Old and new versions serve side by side during the roll,
 * so only deployments whose databases the old version tolerates may roll: no pending migration, or only expand (before
 * the roll) and contract (after Complete) ones. Verification comes after every host rolled: the new version then serves
 * the public and answers on the preview address too. Reset rolls back host by host the same way (code only).
 */
import { ApplicationFailure, patched, type ActivityOptions } from '@temporalio/workflow';
import type { RouteTarget, ServedPackage, SitePlan } from '../../activities/contract.js';
import { run, type ActivityPresets } from '../activity-presets.js';
import type { DeploymentStatus, RollingHostStatus } from '../definitions.js';
import { classify } from '../failure-classes.js';
import { databaseStep, siteStep, type DeploymentContext } from './context.js';
import { expand, type PhasedMigrations } from './expand.js';
import { announce } from './notify.js';
import { onHostStep, originalSlotId } from './slots.js';
import { tellEnvironmentSettled } from './tell-environment.js';
import { awaitVerification } from './verification.js';

export const ROLLING_STRATEGY = 'rolling-strategy';

type SlotHost = ActivityPresets['slotHosts'][number];

/** What a rolling deployment runs: the expand and contract migrations of each database (often none). */
export interface RollingPlan {
  phased: PhasedMigrations;
}

/** Only requests with strategy rolling reach the patch, so earlier histories never meet it. */
export function usesRolling(ctx: DeploymentContext): boolean {
  return ctx.request.strategy === 'rolling' && patched(ROLLING_STRATEGY);
}

/**
 * Still in preflight: refused before anything moves when rolling cannot keep its promises. Null when no version is live
 * yet: nothing to roll from, so the deployment takes the smooth path.
 */
export async function planRolling(ctx: DeploymentContext): Promise<RollingPlan | null> {
  const { request, plan, record } = ctx;
  const hosts = ctx.activities.slotHosts;
  const maxUnavailable = request.maxUnavailable ?? 1;
  if (!record.previousPackage) {
    record.log('Rolling strategy with no live version: the first version starts on every host the smooth way.');
    return null;
  }
  if (request.mode === 'maintenance-page')
    throw refused('mode maintenance-page takes every site offline: a rolling deployment keeps serving. Deploy with strategy smooth');
  if (hosts.length < 2)
    throw refused(
      `environment ${request.environment} runs its slots on ${hosts.length} host: a rolling deployment takes a host out of the ` +
        'route while it upgrades it, which needs at least 2 hosts. Deploy with strategy smooth',
    );
  if (maxUnavailable >= hosts.length)
    throw refused(
      `maxUnavailable: must be less than the ${hosts.length} hosts of ${request.environment} (got ${maxUnavailable}): ` +
        'at least one host must keep serving while the others upgrade',
    );
  const held = plan.sites.filter((s) => s.role === 'maintenance-page').map((s) => s.name);
  if (held.length)
    throw refused(
      `site ${held.join(', ')} has role maintenance-page: its old and new versions must never run at once, and a rolling ` +
        'deployment serves both during the roll. Deploy with strategy smooth',
    );
  const inMaintenance = record
    .sites()
    .filter((s) => s.inMaintenance)
    .map((s) => s.plan.name);
  if (inMaintenance.length)
    throw refused(
      `site ${inMaintenance.join(', ')} is in maintenance mode from an earlier deployment: a rolling deployment starts from ` +
        'live sites. Reset the earlier deployment, or deploy with strategy smooth',
    );
  const allow = request.allowMissingMigrations ? { allowMissingMigrations: true } : {};
  const phased: PhasedMigrations = {};
  for (const db of plan.databases) {
    const step = { ...databaseStep(ctx, db.name), packageSha256: request.package.sha256, ...allow };
    try {
      phased[db.name] = await run(ctx.activities.control.planExpandContract, `Check ${db.name}'s pending migrations for a roll`, step);
    } catch (error) {
      const failure = classify(error);
      if (failure.class === 'transient') throw error;
      // The old version keeps serving during the roll: a migration it may not work on needs a clone.
      throw refused(`database ${db.name} cannot take a rolling deployment: ${failure.message}`);
    }
    const p = phased[db.name]!;
    record.log(
      `Database ${db.name}: expand migrations before the roll ${p.expand.join(', ') || 'none'}; ` +
        `contract migrations after Complete ${p.contract.join(', ') || 'none'}`,
    );
  }
  record.rolling = {
    maxUnavailable,
    hosts: hosts.map((h) => ({ name: h.name, version: record.previousPackage!.version, state: 'waiting' })),
  };
  record.log(
    `Rolling strategy: ${hosts.length} hosts, at most ${maxUnavailable} out of the route at a time; no clone, writes are never ` +
      `refused; ${record.previousPackage.version} and ${request.package.version} both serve during the roll.`,
  );
  return { phased };
}

/** The whole rolling deployment after preflight: expand, roll, verification, then Complete or Reset. */
export async function deployRolling(ctx: DeploymentContext, rolling: RollingPlan): Promise<DeploymentStatus> {
  const { request, record } = ctx;
  if (Object.values(rolling.phased).some((p) => p.expand.length > 0)) await expand(ctx, rolling.phased);
  record.enter('rolling');
  await roll(ctx, served(request.package));
  await openPreviews(ctx);
  await awaitVerification(ctx);
  if (record.decision?.action === 'complete') await completeRolling(ctx, rolling);
  else await resetRolling(ctx);
  await announce(ctx, record.phase === 'completed' ? 'completed' : 'reset');
  return record.status();
}

/** Complete: every host already serves the new version; the preview closes and the contract migrations run. */
async function completeRolling(ctx: DeploymentContext, rolling: RollingPlan): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('completing');
  for (const site of plan.sites) {
    await run(ctx.activities.control.routePreview, `Close the preview of ${site.name}`, { ...siteStep(ctx, site.name), route: null });
    record.updateSite(site.name, { state: 'live', previewSlot: null });
  }
  // No old version runs any more: each host's old slots stopped when it rolled (promise 2 for the contract migrations).
  for (const db of plan.databases) {
    if (!rolling.phased[db.name]?.contract.length) continue;
    record.enter('contract');
    const migration = {
      ...databaseStep(ctx, db.name),
      packageSha256: request.package.sha256,
      phase: 'contract' as const,
      ...(request.allowMissingMigrations ? { allowMissingMigrations: true } : {}),
    };
    const result = await run(ctx.activities.databaseWork.applyMigrations, `Contract ${db.name} for ${request.package.version}`, migration);
    record.log(`Applied contract migrations to ${db.name}: ${result.applied.join(', ') || 'none was pending'}`);
  }
  await tellEnvironmentSettled(ctx, 'completed');
  record.enter('completed');
  record.log(`Deployment completed: ${request.environment} runs ${request.package.version} on every host`);
}

/** Reset, also from a failure mid-roll: hosts go back to the previous version a batch at a time (code only). */
export async function resetRolling(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  record.enter('resetting');
  if (record.decision?.rollbackDatabase)
    record.log('A rolling deployment rolls back the code only: no restore point was taken, every write is kept', 'warn');
  for (const site of plan.sites) {
    record.updateSite(site.name, { state: 'rolling-back' });
    await run(ctx.activities.control.routePreview, `Close the preview of ${site.name}`, { ...siteStep(ctx, site.name), route: null });
  }
  const previous = record.previousPackage!;
  await roll(ctx, previous);
  await tellEnvironmentSettled(ctx, 'reset');
  record.enter('reset');
  record.log(`Deployment reset (code rolled back host by host, database kept): ${request.environment} runs ${previous.version}`);
}

/**
 * Where one site stands on one host: its replica's port in the live route (null: out of it), the version there,
 * and a warmed-up port not yet routed.
 */
interface Replica {
  port: number | null;
  sha256: string | null;
  warmed?: number;
}

/** Per site, per host: read from the live routes and each host's own slots, so a roll resumes where it stopped. */
type Placement = Map<string, Map<string, Replica>>;

/** Moves every host to `target`, at most maxUnavailable at a time; hosts already serving it are left alone. */
async function roll(ctx: DeploymentContext, target: ServedPackage): Promise<void> {
  const { request, plan, record } = ctx;
  const hosts = ctx.activities.slotHosts;
  const maxUnavailable = request.maxUnavailable ?? 1;
  const placement = await readPlacement(ctx);
  const forward = target.sha256 === request.package.sha256;
  const other = forward ? record.previousPackage! : served(request.package);
  const onTarget = (h: SlotHost) => plan.sites.every((s) => placement.get(s.name)!.get(h.name)!.sha256 === target.sha256);
  for (const h of hosts) {
    if (onTarget(h)) setHost(ctx, h.name, { version: target.version, state: forward ? 'rolled' : 'rolled-back' });
  }
  const todo = hosts.filter((h) => !onTarget(h));
  record.log(
    todo.length
      ? `Rolling ${todo.map((h) => h.name).join(', ')} to ${target.version}, ${maxUnavailable} at a time`
      : `Every host already serves ${target.version}`,
  );
  const targetRef = await run(ctx.activities.control.describePackage, `Read package ${target.version}`, { sha256: target.sha256 });
  const otherRef = await run(ctx.activities.control.describePackage, `Read package ${other.version}`, { sha256: other.sha256 });
  for (let i = 0; i < todo.length; i += maxUnavailable) {
    const batch = todo.slice(i, i + maxUnavailable);
    const names = batch.map((h) => h.name).join(', ');
    record.log(`Batch ${i / maxUnavailable + 1}: taking ${names} out of the route`);
    try {
      await takeOut(ctx, placement, batch, forward);
      // Every host of the batch finishes its step before anything else happens to the batch (a restore never races one).
      const upgraded = await Promise.allSettled(
        batch.map((h) => upgradeHost(ctx, placement, h, target, other, targetRef.warmupPath, forward)),
      );
      const failed = upgraded.find((u) => u.status === 'rejected');
      if (failed) throw failed.reason;
      await putBack(ctx, placement, batch, `Put ${names} back, serving ${target.version}`);
      for (const h of batch) setHost(ctx, h.name, { version: target.version, state: forward ? 'rolled' : 'rolled-back' });
      record.log(`Hosts ${names} serve ${target.version}`);
    } catch (error) {
      record.log(`Rolling ${names} to ${target.version} failed: ${classify(error).message}`, 'error');
      await restore(ctx, placement, batch, other, otherRef.warmupPath);
      throw error;
    }
  }
  for (const site of plan.sites) {
    const slotId = originalSlotId(ctx, site.name, target.sha256);
    record.updateSite(site.name, { state: 'live', serving: slotId });
  }
}

/** The live routes and each host's running slots, matched by address and port. */
async function readPlacement(ctx: DeploymentContext): Promise<Placement> {
  const { request, plan } = ctx;
  const inspection = await run(ctx.activities.control.inspectEnvironment, 'Read the live routes', { environment: request.environment });
  const slotsOf = await Promise.all(
    ctx.activities.slotHosts.map((h) =>
      onHostStep(h.name, () => run(h.host.listSlots, `List slots (host ${h.name})`, { environment: request.environment })),
    ),
  );
  const placement: Placement = new Map();
  for (const site of plan.sites) {
    const live = inspection.routes[site.name]?.live ?? null;
    const replicas = live?.kind === 'slot' ? (live.replicas ?? [{ host: live.host ?? '127.0.0.1', port: live.port! }]) : [];
    const perHost = new Map<string, Replica>();
    ctx.activities.slotHosts.forEach((h, i) => {
      const inRoute = replicas.find((r) => (r.host ?? '127.0.0.1') === h.address);
      const slot = inRoute && slotsOf[i]!.find((s) => s.site === site.name && s.state === 'running' && s.port === inRoute.port);
      perHost.set(h.name, { port: slot ? slot.port : null, sha256: slot ? slot.packageSha256 : null });
    });
    placement.set(site.name, perHost);
  }
  return placement;
}

/** One switch per site without the batch's replicas; it returns once their requests in flight drained. */
async function takeOut(ctx: DeploymentContext, placement: Placement, batch: SlotHost[], forward: boolean): Promise<void> {
  for (const h of batch) setHost(ctx, h.name, { state: 'draining' });
  for (const site of ctx.plan.sites) {
    const perHost = placement.get(site.name)!;
    if (batch.every((h) => perHost.get(h.name)!.port === null)) continue;
    const next = new Map(perHost);
    for (const h of batch) next.set(h.name, { port: null, sha256: null });
    await switchRoute(ctx, site, next, `Take ${batch.map((h) => h.name).join(', ')} out of ${site.name}'s route`);
    // Only once the switch is done: a host still in the route is never stopped.
    placement.set(site.name, next);
  }
  for (const h of batch) setHost(ctx, h.name, { version: null, state: forward ? 'upgrading' : 'rolling-back' });
}

/** Out of the route: the other version's slots stop, the target's start and warm up (promise 1). */
async function upgradeHost(
  ctx: DeploymentContext,
  placement: Placement,
  h: SlotHost,
  target: ServedPackage,
  other: ServedPackage,
  warmupPath: string,
  forward: boolean,
): Promise<void> {
  for (const site of ctx.plan.sites) {
    await stopOn(ctx, h, originalSlotId(ctx, site.name, other.sha256), `Stop ${other.version} of ${site.name}`);
    const warmed = await startAndWarmOn(ctx, h, site, target, warmupPath);
    placement.get(site.name)!.set(h.name, { port: null, sha256: target.sha256, warmed });
  }
  ctx.record.log(`Host ${h.name}: ${target.version} ${forward ? 'started' : 'back'} and warmed up, not yet in the route`);
}

/** One switch per site with the batch's warmed-up replicas back in. */
async function putBack(ctx: DeploymentContext, placement: Placement, batch: SlotHost[], summary: string): Promise<void> {
  for (const site of ctx.plan.sites) {
    const next = new Map(placement.get(site.name)!);
    for (const h of batch) {
      const { warmed, sha256 } = next.get(h.name)!;
      if (warmed !== undefined) next.set(h.name, { port: warmed, sha256 });
    }
    await switchRoute(ctx, site, next, `${summary} (${site.name})`);
    placement.set(site.name, next);
  }
}

/** A batch that failed: each of its hosts gets the version it served back, warmed up, into the route; a host that cannot stays out. */
async function restore(ctx: DeploymentContext, placement: Placement, batch: SlotHost[], other: ServedPackage, warmupPath: string) {
  const { record } = ctx;
  const failed = otherThan(ctx, other);
  for (const h of batch) {
    try {
      for (const site of ctx.plan.sites) {
        const perHost = placement.get(site.name)!;
        if (perHost.get(h.name)!.port !== null) continue; // never left the route
        await stopOn(ctx, h, originalSlotId(ctx, site.name, failed.sha256), `Stop ${failed.version} of ${site.name}`);
        const warmed = await startAndWarmOn(ctx, h, site, other, warmupPath);
        perHost.set(h.name, { port: null, sha256: other.sha256, warmed });
      }
      await putBack(ctx, placement, [h], `Put ${h.name} back, serving ${other.version}`);
      setHost(ctx, h.name, { version: other.version, state: 'waiting' });
      record.log(`Host ${h.name} serves ${other.version} again`);
    } catch (error) {
      setHost(ctx, h.name, { version: null, state: 'out' });
      record.log(`Host ${h.name} stays out of the route: ${classify(error).message}`, 'error');
    }
  }
}

/** The live route of a site from where each host stands; the new version names it once every host serves it. */
async function switchRoute(ctx: DeploymentContext, site: SitePlan, perHost: Map<string, Replica>, summary: string): Promise<void> {
  const { request, record } = ctx;
  const hosts = ctx.activities.slotHosts;
  const replicas = hosts.flatMap((h) => {
    const r = perHost.get(h.name)!;
    return r.port === null ? [] : [{ host: h.address, port: r.port }];
  });
  if (replicas.length === 0) throw new Error(`site ${site.name} would have no replica left in its route`);
  // A mixed route still names the previous version, so a deployment resumed after a failure knows what it replaces.
  const allNew = replicas.length === hosts.length && hosts.every((h) => perHost.get(h.name)!.sha256 === request.package.sha256);
  const pkg = allNew ? served(request.package) : record.previousPackage!;
  const route: RouteTarget = { kind: 'slot', slotId: originalSlotId(ctx, site.name, pkg.sha256), replicas, package: pkg };
  await run(ctx.activities.control.routePublicTraffic, summary, { ...siteStep(ctx, site.name), route, drainTimeoutMs: ctx.drainTimeoutMs });
}

/** After the roll: the preview address answers with the new version too (what verification and an analysis check). */
async function openPreviews(ctx: DeploymentContext): Promise<void> {
  const { request, plan, record } = ctx;
  const placement = await readPlacement(ctx);
  for (const site of plan.sites) {
    const perHost = placement.get(site.name)!;
    const replicas = ctx.activities.slotHosts.map((h) => ({ host: h.address, port: perHost.get(h.name)!.port! }));
    const slotId = originalSlotId(ctx, site.name, request.package.sha256);
    const route = { kind: 'slot' as const, slotId, replicas, package: served(request.package) };
    await run(ctx.activities.control.routePreview, `Preview ${site.name}`, { ...siteStep(ctx, site.name), route });
    record.site(site.name).preview = route;
    record.updateSite(site.name, { state: 'preview', previewSlot: slotId });
  }
}

async function startAndWarmOn(
  ctx: DeploymentContext,
  h: SlotHost,
  site: SitePlan,
  pkg: ServedPackage,
  warmupPath: string,
): Promise<number> {
  const spec = { environment: ctx.request.environment, site: site.name, packageSha256: pkg.sha256, databases: 'original' as const };
  const summary = `Start ${pkg.version} of ${site.name} (host ${h.name})`;
  const slot = await onHostStep(h.name, () => run(h.host.startSlot, summary, { ...spec, readOnly: false }));
  const path = site.warmupPath ?? warmupPath;
  try {
    await onHostStep(h.name, () =>
      h.warmup.warmUpSlot.executeWithOptions(
        { summary: `Warm up ${slot.slotId} (host ${h.name})`, startToCloseTimeout: site.warmupTimeoutMs + 30_000 } as ActivityOptions,
        [{ slotId: slot.slotId, path, timeoutMs: site.warmupTimeoutMs }],
      ),
    );
  } catch (error) {
    ctx.record.log(`Slot ${slot.slotId} failed its warm-up on ${path} on host ${h.name}: stopping it`, 'error');
    await stopOn(ctx, h, slot.slotId, `Stop the failed slot ${slot.slotId}`).catch(() => undefined);
    throw error;
  }
  return slot.port;
}

async function stopOn(ctx: DeploymentContext, h: SlotHost, slotId: string, summary: string): Promise<void> {
  await onHostStep(h.name, () => run(h.host.stopSlot, `${summary} (host ${h.name})`, { slotId }));
}

function setHost(ctx: DeploymentContext, name: string, change: Partial<Omit<RollingHostStatus, 'name'>>): void {
  const host = ctx.record.rolling?.hosts.find((h) => h.name === name);
  if (host) Object.assign(host, change);
}

function otherThan(ctx: DeploymentContext, pkg: ServedPackage): ServedPackage {
  return pkg.sha256 === ctx.request.package.sha256 ? ctx.record.previousPackage! : served(ctx.request.package);
}

function served(pkg: ServedPackage): ServedPackage {
  return { sha256: pkg.sha256, version: pkg.version };
}

function refused(message: string): ApplicationFailure {
  return ApplicationFailure.create({ type: 'invalid-input', message, nonRetryable: true });
}
