/** Starting, warming up and stopping a site's slot: one copy on every host the environment's slots run on. */
import { ActivityFailure, ApplicationFailure, TimeoutFailure, type ActivityOptions } from '@temporalio/workflow';
import type { RouteTarget, ServedPackage, SitePlan } from '../../activities/contract.js';
import { slotIdFor, type SlotInfo, type SlotSpec } from '../../platform/agent/contract.js';
import { run, type ActivityPresets } from '../activity-presets.js';
import type { DeploymentContext } from './context.js';

/** One slot: the same id on every host, each copy at its host's address. */
export interface SlotCopies {
  slotId: string;
  copies: Array<{ host: string; address: string; port: number }>;
}

/** Starts the slot on every host at once; a host that fails it fails the step (the failure path stops it everywhere). */
export async function startSlot(ctx: DeploymentContext, spec: SlotSpec, summary: string): Promise<SlotCopies> {
  const hosts = ctx.activities.slotHosts;
  const started = await Promise.all(hosts.map((h) => startCopy(ctx, spec, h, summary)));
  const copies = started.map((slot, i) => ({ host: hosts[i]!.name, address: hosts[i]!.address, port: slot.port }));
  ctx.record.log(`Started ${started[0]!.slotId} on ${copies.map((c) => `host ${c.host} (${c.address}:${c.port})`).join(', ')}`);
  return { slotId: started[0]!.slotId, copies };
}

/** One host's copy of the slot, kept in the replica book: starting, then started, failed, or lost with its host. */
async function startCopy(ctx: DeploymentContext, spec: SlotSpec, h: ActivityPresets['slotHosts'][number], summary: string) {
  const copy = { host: h.name, address: h.address, slotId: slotIdFor(spec) };
  ctx.record.replicas.set(spec.site, copy, 'starting');
  let lost = false;
  try {
    const slot: SlotInfo = await onHostStep(
      h.name,
      () => run(h.host.startSlot, onHost(ctx, summary, h.name), spec),
      () => {
        lost = true;
        markHostLost(ctx, h.name);
      },
    );
    ctx.record.replicas.set(spec.site, { ...copy, port: slot.port }, 'started');
    return slot;
  } catch (error) {
    if (!lost) ctx.record.replicas.set(spec.site, copy, 'failed');
    throw error;
  }
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
      ctx.activities.slotHosts.map((h) => {
        const copy = { host: h.name, address: h.address, slotId: route.slotId };
        ctx.record.replicas.set(site.name, copy, 'warming');
        return h.warmup.warmUpSlot
          .executeWithOptions(
            {
              summary: onHost(ctx, `Warm up ${route.slotId}`, h.name),
              startToCloseTimeout: site.warmupTimeoutMs + 30_000,
            } as ActivityOptions,
            [{ slotId: route.slotId, path, timeoutMs: site.warmupTimeoutMs }],
          )
          .then(
            () => ctx.record.replicas.set(site.name, copy, 'warm'),
            (error: unknown) => {
              if (agentNeverTook(error)) markHostLost(ctx, h.name);
              else ctx.record.replicas.set(site.name, copy, 'failed');
              throw error;
            },
          );
      }),
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
    ctx.activities.slotHosts.map(async (h) => {
      await onHostStep(
        h.name,
        () => run(h.host.stopSlot, onHost(ctx, summary, h.name), { slotId }),
        () => markHostLost(ctx, h.name),
      );
      ctx.record.replicas.stopped(slotId, h.name);
    }),
  );
}

/** A host found lost: every copy on it that had not stopped is marked lost, and the log says which. */
export function markHostLost(ctx: DeploymentContext, host: string): void {
  const lost = ctx.record.replicas.hostLost(host);
  if (lost.length) ctx.record.log(`Host ${host} is lost: its replicas ${lost.map((r) => r.slotId).join(', ')} are marked lost`, 'error');
}

/** Names the host in the Web UI's timeline once there are several. */
function onHost(ctx: DeploymentContext, summary: string, host: string): string {
  return ctx.activities.slotHosts.length > 1 ? `${summary} (host ${host})` : summary;
}

/** A step no agent of the host took in time: the host is lost, named, and the deployment resumes once it is back. */
export async function onHostStep<T>(host: string, step: () => Promise<T>, onLost?: () => void): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!agentNeverTook(error)) throw error;
    onLost?.();
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

/** No agent of the host took the step within its schedule-to-start time. */
function agentNeverTook(error: unknown): boolean {
  const cause = error instanceof ActivityFailure ? error.cause : undefined;
  return cause instanceof TimeoutFailure && cause.timeoutType === 'SCHEDULE_TO_START';
}
