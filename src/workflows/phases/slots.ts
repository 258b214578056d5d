/** Starting, warming up and stopping a site's slot: one copy on every host the environment's slots run on. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import type { RouteTarget, ServedPackage, SitePlan } from '../../activities/contract.js';
import { slotIdFor, type SlotSpec } from '../../platform/agent/contract.js';
import { run } from '../activity-presets.js';
import type { DeploymentContext } from './context.js';

/** One slot: the same id on every host, each copy at its host's address. */
export interface SlotCopies {
  slotId: string;
  copies: Array<{ host: string; address: string; port: number }>;
}

/** Starts the slot on every host at once; a host that fails it fails the step (the failure path stops it everywhere). */
export async function startSlot(ctx: DeploymentContext, spec: SlotSpec, summary: string): Promise<SlotCopies> {
  const hosts = ctx.activities.slotHosts;
  const started = await Promise.all(hosts.map((h) => onHostStep(h.name, () => run(h.host.startSlot, onHost(ctx, summary, h.name), spec))));
  return {
    slotId: started[0]!.slotId,
    copies: started.map((slot, i) => ({ host: hosts[i]!.name, address: hosts[i]!.address, port: slot.port })),
  };
}

export async function startAndWarm(
  ctx: DeploymentContext,
  site: SitePlan,
  packageSha256: string,
  databases: 'original' | 'temporary',
  readOnly: boolean,
  warmupPath: string,
): Promise<SlotCopies> {
  const spec = { environment: ctx.request.environment, site: site.name, packageSha256, databases, readOnly };
  const slot = await startSlot(ctx, spec, `Start slot of ${site.name} on ${databases} databases`);
  await warm(ctx, site, slotRoute(slot), warmupPath);
  return slot;
}

/** The route to a slot: its one copy, or every copy as a replica (traffic switches for all of them at once). */
export function slotRoute(slot: SlotCopies, pkg?: ServedPackage): RouteTarget & { kind: 'slot' } {
  const served = pkg ? { package: pkg } : {};
  if (slot.copies.length === 1) return { kind: 'slot', slotId: slot.slotId, port: slot.copies[0]!.port, ...served };
  return { kind: 'slot', slotId: slot.slotId, replicas: slot.copies.map((c) => ({ host: c.address, port: c.port })), ...served };
}

/** A slot that fails its warm-up on any host never gets traffic (promise 1), and is stopped everywhere so it does not linger. */
export async function warm(ctx: DeploymentContext, site: SitePlan, route: RouteTarget, path: string): Promise<void> {
  if (route.kind !== 'slot') return;
  try {
    await Promise.all(
      ctx.activities.slotHosts.map((h) =>
        h.warmup.warmUpSlot.executeWithOptions(
          {
            summary: onHost(ctx, `Warm up ${route.slotId}`, h.name),
            startToCloseTimeout: site.warmupTimeoutMs + 30_000,
          } as ActivityOptions,
          [{ slotId: route.slotId, path, timeoutMs: site.warmupTimeoutMs }],
        ),
      ),
    );
  } catch (error) {
    ctx.record.log(`Slot ${route.slotId} failed its warm-up on ${path}: stopping it`, 'error');
    await stopSlot(ctx, route.slotId, `Stop the failed slot ${route.slotId}`).catch(() => undefined);
    throw error;
  }
}

/** The slot of a package on a site's original databases (the live version, or the new one). */
export function originalSlotId(ctx: DeploymentContext, site: string, packageSha256: string): string {
  return slotIdFor({ environment: ctx.request.environment, site, packageSha256, databases: 'original' });
}

/** Stops the slot on every host (a no-op where it does not run). */
export async function stopSlot(ctx: DeploymentContext, slotId: string, summary: string): Promise<void> {
  await Promise.all(
    ctx.activities.slotHosts.map((h) => onHostStep(h.name, () => run(h.host.stopSlot, onHost(ctx, summary, h.name), { slotId }))),
  );
}

/** Names the host in the Web UI's timeline once there are several. */
function onHost(ctx: DeploymentContext, summary: string, host: string): string {
  return ctx.activities.slotHosts.length > 1 ? `${summary} (host ${host})` : summary;
}

/** A step no agent of the host took in time: the host is lost, named, and the deployment resumes once it is back. */
export async function onHostStep<T>(host: string, step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    const cause = error instanceof ActivityFailure ? error.cause : undefined;
    if (!(cause instanceof TimeoutFailure) || cause.timeoutType !== 'SCHEDULE_TO_START') throw error;
    throw ApplicationFailure.create({
      type: 'transient',
      message: `host ${host} is lost: its agent did not take the step in time (no agent polls cutover-host-${host}, or the host is cut off)`,
      nonRetryable: true,
      details: [
        {
          remediation:
            `Bring host ${host} back (its network and its host agent on task queue cutover-host-${host}), ` +
            'then deploy again: the deployment resumes from where it stopped.',
        },
      ],
    });
  }
}
