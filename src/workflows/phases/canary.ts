/**
 * Canary steps before the decision (expand-contract mode only: old and new versions share the databases). Once the new
 * version warmed up, a share of each zdd site's public clients goes to it, raised step by step; the router's counts of
 * the canary slot are judged after each step. A breach sets the share to 0 and Resets by itself (code only); after the
 * last step the share stays and a person decides. Never a promotion: Complete's switch ends the canary, Reset removes it.
 */
import { patched, type ActivityOptions } from '@temporalio/workflow';
import type { RouteTarget } from '../../activities/contract.js';
import { run } from '../activity-presets.js';
import { describeStats } from '../analysis-definitions.js';
import { bakeBreaches, type BakeTraffic } from '../bake-definitions.js';
import type { CanarySpec, CanaryStepResult } from '../canary-definitions.js';
import { decide } from '../decisions.js';
import { classify } from '../failure-classes.js';
import { siteStep, type DeploymentContext } from './context.js';

/** Deployments that started before canary steps existed replay without their commands; only requests with one reach the patch. */
export const CANARY_STEPS = 'canary-steps';

/** The request's canary; null without one, outside expand-contract mode, or with no live version to share the traffic with. */
export function canaryFor(ctx: DeploymentContext): CanarySpec | null {
  const { request, record } = ctx;
  if (!request.canary || request.mode !== 'expand-contract') return null;
  if (!record.previousPackage) {
    record.log('No canary: no live version serves yet, so there is no public traffic to share');
    return null;
  }
  return patched(CANARY_STEPS) ? request.canary : null;
}

/** The new version's slot of each zdd site, as its preview routes it. */
function canarySites(ctx: DeploymentContext): Array<{ site: string; route: RouteTarget & { kind: 'slot' } }> {
  return ctx.plan.sites
    .filter((s) => s.role === 'zdd')
    .flatMap((s) => {
      const preview = ctx.record.site(s.name).preview;
      return preview?.kind === 'slot' ? [{ site: s.name, route: preview }] : [];
    });
}

/** Raises the canary step by step; returns when the last step held, a step breached (decided: Reset), or a person decided. */
export async function runCanary(ctx: DeploymentContext, spec: CanarySpec): Promise<void> {
  const { request, plan, record } = ctx;
  const sites = canarySites(ctx);
  if (sites.length === 0) {
    record.log('No canary: no zdd site has a slot of the new version to send public traffic to');
    return;
  }
  record.canary = { spec, percent: 0, stepsDone: 0, steps: [], state: 'stepping', verdict: null, breach: null };
  const limits = [
    spec.maxErrorRate === null ? null : `error rate above ${Math.round(spec.maxErrorRate * 1000) / 10}%`,
    spec.maxP99Ms === null ? null : `p99 above ${spec.maxP99Ms} ms`,
  ].filter(Boolean);
  record.log(
    `Canary: ${request.package.version} takes ${spec.steps.join('%, ')}% of public clients in turn, ${spec.intervalMs} ms each; ` +
      `${limits.join(' or ') || 'no threshold'} in a step sets it to 0% and Resets the deployment (code only)`,
  );
  for (const percent of spec.steps) {
    // A person decided meanwhile: the steps stop (Complete's switch or Reset ends the canary).
    if (record.decision) return;
    await setShare(ctx, sites, percent);
    let traffic: BakeTraffic[];
    try {
      const options = {
        summary: `Measure the canary of ${sites.map((s) => s.site).join(', ')} at ${percent}% for ${spec.intervalMs} ms`,
        startToCloseTimeout: spec.intervalMs + plan.timeouts.stepMs,
      } as ActivityOptions;
      // The router counts canary requests under the canary slot's label of the live listener: the bake's reading.
      const slots = sites.map((s) => ({ site: s.site, slotId: s.route.slotId }));
      traffic = await ctx.activities.bake.measureLiveTraffic.executeWithOptions(options, [
        { environment: request.environment, slots, intervalMs: spec.intervalMs },
      ]);
    } catch (error) {
      // An unread step proves nothing: the share goes no higher, and a person decides.
      record.log(`Canary: the traffic at ${percent}% could not be measured (${classify(error).message}); it stays there`, 'warn');
      record.canary = { ...record.canary!, state: 'holding' };
      return;
    }
    const steps: CanaryStepResult[] = [...record.canary!.steps, { percent, traffic }];
    record.canary = { ...record.canary!, stepsDone: steps.length, steps };
    for (const t of traffic) record.log(`Canary at ${percent}%: site ${t.site}: ${describeStats(t)}`);
    const breaches = bakeBreaches({ durationMs: spec.intervalMs, ...spec }, traffic);
    if (breaches.length > 0) return breach(ctx, sites, percent, breaches.join('; '));
  }
  record.canary = { ...record.canary, state: 'holding', verdict: 'pass' };
  record.log(
    `Canary held at every step: ${record.canary.percent}% of public clients stay on ${request.package.version} ` +
      'until a person decides (Complete moves them all, Reset removes the canary)',
  );
}

/** A step breached: every client back on the live version at once, then Reset by itself with the evidence. */
async function breach(ctx: DeploymentContext, sites: ReturnType<typeof canarySites>, percent: number, why: string): Promise<void> {
  const { record } = ctx;
  record.log(`Canary breached at ${percent}%: ${why}. Every public client goes back to the live version at once`, 'error');
  await setShare(ctx, sites, 0);
  record.canary = { ...record.canary!, state: 'breached', verdict: 'fail', breach: why };
  if (record.decision) return;
  decide(record, { action: 'reset', rollbackDatabase: false, reason: `canary breached at ${percent}%: ${why}` });
}

/** Complete: the live switch to the new version ended the canary (no command: the router drops it with the switch). */
export function canaryEndedBySwitch({ record }: DeploymentContext): void {
  if (!record.canary || record.canary.state === 'ended') return;
  record.canary = { ...record.canary, state: 'ended' };
  record.log(`Canary ended by the switch: every public client is on ${record.request.package.version}`);
}

/** Reset (a person's or the canary's own): the canary is removed before the new version stops. */
export async function removeCanary(ctx: DeploymentContext): Promise<void> {
  const { record } = ctx;
  if (!record.canary || record.canary.state === 'ended') return;
  for (const { site } of canarySites(ctx)) {
    await run(ctx.activities.control.setCanary, `Remove the canary of ${site}`, {
      ...siteStep(ctx, site),
      canary: null,
      drainTimeoutMs: ctx.drainTimeoutMs,
    });
    record.replicas.canary(site, null);
  }
  record.canary = { ...record.canary, state: 'ended', percent: 0 };
  record.log('Canary removed: every public client is on the live version');
}

async function setShare(ctx: DeploymentContext, sites: ReturnType<typeof canarySites>, percent: number): Promise<void> {
  const allow = ctx.record.canary?.spec.allow;
  for (const { site, route } of sites) {
    await run(ctx.activities.control.setCanary, `Send ${percent}% of ${site} clients to ${ctx.request.package.version}`, {
      ...siteStep(ctx, site),
      canary: { route, percent, ...(allow?.length ? { allow } : {}) },
      drainTimeoutMs: ctx.drainTimeoutMs,
    });
    ctx.record.replicas.canary(site, percent > 0 ? route.slotId : null);
  }
  ctx.record.canary = { ...ctx.record.canary!, percent };
  ctx.record.log(`Canary: ${percent}% of public clients on ${ctx.request.package.version}`);
}
