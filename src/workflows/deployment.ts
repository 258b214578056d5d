/**
 * One smooth deployment of a package to an environment (design brief, phases 1-7).
 * Every step is an idempotent activity, so a retry or a replay after a crash does no harm.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  condition,
  getExternalWorkflowHandle,
  log as workflowLog,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type ActivityOptions,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.js';
import type { EnvironmentPlan, RouteTarget, ServedPackage, SitePlan } from '../activities/contract.js';
import { failureClasses, isFailureClass, type ClassifiedFailure, type FailureClass } from '../failures.js';
import { slotIdFor, type HostActivities, type SlotInfo } from '../platform/agent/contract.js';
import {
  completeSignal,
  completeUpdate,
  deploymentFailedSignal,
  logQuery,
  refusals,
  resetSignal,
  resetUpdate,
  statusQuery,
  supersedeSignal,
  type Decision,
  type DeploymentRequest,
  type DeploymentStatus,
  type Phase,
} from './definitions.js';
import { DeploymentRecord } from './deployment-record.js';
import { phaseKey } from './search-attributes.js';
import { slackMisconfigured, type SlackEvent, type SlackMessageRef } from '../slack/contract.js';
import type { SlackActivities } from '../slack/activities.js';

type Activities = ReturnType<typeof activities.createActivities>;

const nonRetryableErrorTypes = Object.keys(failureClasses).filter((c) => c !== 'transient');

const retry = { initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '15s', maximumAttempts: 10, nonRetryableErrorTypes };

/** Reading the environment's configuration, before its own timeouts are known. */
const bootstrap = proxyActivities<Activities>({ startToCloseTimeout: '30s', retry });

/** Activity presets from the environment's timeouts: a quick step, long database work, host slots and warm-ups. */
function presets(plan: EnvironmentPlan) {
  const { stepMs, heartbeatMs, databaseWorkMs } = plan.timeouts;
  return {
    /** Quick calls to the router, the config and the package store. */
    control: proxyActivities<Activities>({ startToCloseTimeout: stepMs, retry }),
    /** Copies, restore points, migrations: heartbeats tell a dead worker from a slow copy. */
    databaseWork: proxyActivities<Activities>({
      startToCloseTimeout: databaseWorkMs,
      heartbeatTimeout: heartbeatMs,
      retry: { ...retry, initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 8 },
    }),
    host: proxyActivities<HostActivities>({ taskQueue: plan.hostTaskQueue, startToCloseTimeout: stepMs, retry }),
    warmup: proxyActivities<HostActivities>({
      taskQueue: plan.hostTaskQueue,
      startToCloseTimeout: '10 minutes',
      heartbeatTimeout: heartbeatMs,
      retry: { initialInterval: '2s', maximumAttempts: 3, nonRetryableErrorTypes },
    }),
  };
}

/** Slack messages: a few quick retries; a misconfigured Slack is not retried at all. */
const notify = proxyActivities<SlackActivities>({
  startToCloseTimeout: '30s',
  retry: { initialInterval: '2s', backoffCoefficient: 2, maximumAttempts: 5, nonRetryableErrorTypes: [slackMisconfigured] },
});

/** Names the activity in the Web UI's timeline so it reads like the deployment log. */
function run<A extends unknown[], R>(
  fn: ((...args: A) => Promise<R>) & { executeWithOptions(o: ActivityOptions, a: A): Promise<R> },
  summary: string,
  ...args: A
): Promise<R> {
  return fn.executeWithOptions({ summary } as ActivityOptions, args);
}

export async function deploymentWorkflow(request: DeploymentRequest): Promise<DeploymentStatus> {
  const record = new DeploymentRecord(request, () => new Date());
  let superseded = false;

  // Handlers first, before any await, so no early message is lost.
  setHandler(statusQuery, () => record.status());
  setHandler(logQuery, (opts) => ({ lines: record.lines.slice(opts?.after ?? 0) }));
  setHandler(completeUpdate, (opts) => decide({ action: 'complete', rollbackDatabase: false, requestedBy: opts?.requestedBy }), {
    validator: (_opts) => refuseUnless('complete'),
  });
  setHandler(resetUpdate, (req) => decide({ action: 'reset', rollbackDatabase: req.rollbackDatabase, requestedBy: req.requestedBy, reason: req.reason }), {
    validator: (req) => {
      if (typeof req?.rollbackDatabase !== 'boolean') throw new Error('rollbackDatabase must be true or false');
      refuseUnless('reset');
    },
  });
  setHandler(completeSignal, (opts) => {
    if (record.actions().includes('complete')) decide({ action: 'complete', rollbackDatabase: false, requestedBy: opts?.requestedBy });
    else record.log(`Ignored a Complete signal: ${notAvailable('complete')}`, 'warn');
  });
  setHandler(resetSignal, (req) => {
    if (record.actions().includes('reset')) decide({ action: 'reset', rollbackDatabase: req?.rollbackDatabase === true, requestedBy: req?.requestedBy, reason: req?.reason });
    else record.log(`Ignored a Reset signal: ${notAvailable('reset')}`, 'warn');
  });
  setHandler(supersedeSignal, () => {
    superseded = true;
  });

  function notAvailable(action: 'complete' | 'reset'): string {
    if (record.decision) return `the deployment is already being ${record.decision.action === 'complete' ? 'completed' : 'reset'} (current state: ${record.phase})`;
    return `${action === 'complete' ? 'Complete' : 'Reset'} is not available while the deployment is ${record.phase}`;
  }
  function refuseUnless(action: 'complete' | 'reset') {
    if (!record.actions().includes(action)) throw ApplicationFailure.create({ type: refusals.wrongState, message: notAvailable(action), nonRetryable: true });
  }
  function decide(decision: Decision): DeploymentStatus {
    record.decision = decision;
    const what = decision.action === 'complete' ? 'Complete' : decision.rollbackDatabase ? 'Reset (roll back code and database)' : 'Reset (roll back code only)';
    record.log(`${what} requested${decision.requestedBy ? ` by ${decision.requestedBy}` : ''}${decision.reason ? `: ${decision.reason}` : ''}`);
    return record.status();
  }
  function enter(phase: Phase) {
    record.enter(phase);
    upsertSearchAttributes([{ key: phaseKey, value: phase }]);
  }

  const plan = await run(bootstrap.describeEnvironment, 'Read the environment', { environment: request.environment });
  const { control, databaseWork, host, warmup } = presets(plan);
  // Router switches drain in-flight requests within the step's time.
  const drainTimeoutMs = Math.max(1000, Math.floor(plan.timeouts.stepMs / 2));
  const state = new Map<string, SiteProgress>();
  let slackMessage: SlackMessageRef | null = null;

  try {
    await preflight();
    if (record.previousPackage) {
      if (usesClones()) await cloneDatabases();
      await enterMaintenance();
    }
    await upgrade();
    await warmUp();
    enter('awaiting-verification');
    record.log(`Awaiting verification: the new version ${request.package.version} answers on its preview address. Complete or Reset.`);
    await announce('awaiting-verification');
    const decided = await awaitDecision();
    if (!decided) {
      record.decision = { action: 'reset', rollbackDatabase: false, reason: 'verification timeout' };
      record.log(`Nobody completed or reset the deployment within ${formatMs(plan.verificationTimeoutMs)}: resetting it (a deployment is never promoted automatically).`, 'warn');
    }
    if (record.decision?.action === 'complete') await complete();
    else await reset(record.decision?.rollbackDatabase ?? false);
    await announce(record.phase === 'completed' ? 'completed' : 'reset');
    return record.status();
  } catch (error) {
    record.waitingAfterFailure = true; // Reset is available from the moment the failure shows
    record.fail(classify(error));
    await tellEnvironmentWeFailed();
    await announce('failed');
    return await waitAfterFailure();
  }

  /** Waits for Complete or Reset; reminds the Slack channel while nobody answers. False when the verification window ended. */
  async function awaitDecision(): Promise<boolean> {
    let left = plan.verificationTimeoutMs;
    while (left > 0) {
      const wait = plan.slack ? Math.min(left, plan.slack.reminderIntervalMs) : left;
      if (await condition(() => record.decision !== null, wait)) return true;
      left -= wait;
      if (left > 0) await announce('reminder');
    }
    return false;
  }

  /** Tells the environment's Slack channel; a Slack problem is logged and never fails the deployment. */
  async function announce(event: SlackEvent) {
    if (!plan.slack) return;
    try {
      const previewUrls = Object.fromEntries(plan.sites.map((site) => [site.name, site.previewUrl]));
      const ref = await run(notify.notifySlack, `Tell Slack: ${event}`, { event, status: record.status(), previewUrls, message: slackMessage });
      if (ref) slackMessage = ref;
    } catch (error) {
      record.log(`Could not tell Slack (${event}): ${classify(error).message}`, 'warn');
    }
  }

  // Phase 1: validate, and read the environment's real state.
  async function preflight() {
    record.log(`Deployment ${request.deploymentId} of ${request.package.name} ${request.package.version} to ${request.environment} in ${request.mode} mode`);
    if (request.mode === 'readwrite') {
      const warning = 'ReadWrite mode: writes accepted by the clone while the deployment runs are lost when it ends.';
      record.warnings.push(warning);
      record.log(warning, 'warn');
    }
    const inspection = await run(control.inspectEnvironment, 'Inspect router and databases', { environment: request.environment });
    const slots = await run(host.listSlots, 'List slots on the host', { environment: request.environment });
    record.log(`Inspected the environment: ${describeRoutes(inspection.routes)}`);
    const served: ServedPackage[] = [];
    for (const site of plan.sites) {
      const routes = inspection.routes[site.name] ?? { live: null, preview: null };
      const live = routes.live;
      const liveSlot = live?.kind === 'slot' ? slots.find((s) => s.slotId === live.slotId) : undefined;
      const pkg = live?.package ?? (liveSlot ? { sha256: liveSlot.packageSha256, version: liveSlot.packageVersion } : undefined);
      if (pkg) served.push(pkg);
      const inMaintenance = live?.kind === 'maintenance' || (live?.kind === 'slot' && liveSlot?.databases === 'temporary');
      state.set(site.name, { plan: site, inMaintenance, cloneSlot: inMaintenance && live?.kind === 'slot' ? live : null, preview: null });
      record.trackSite(site.name, site.role, live ? (live.kind === 'slot' ? live.slotId : 'maintenance-page') : null);
      if (inMaintenance) record.updateSite(site.name, { state: 'in-maintenance' });
    }
    const distinct = [...new Map(served.map((p) => [p.sha256, p])).values()];
    if (distinct.length > 1) record.log(`Sites serve different packages (${distinct.map((p) => p.version).join(', ')}); ${distinct[0]!.version} is taken as the previous version`, 'warn');
    record.previousPackage = distinct[0] ?? null;
    if (!record.previousPackage) record.log('No version is live yet: first deployment of this environment, no clone needed.');
    else record.log(`Live version: ${record.previousPackage.version}`);
    const resuming = [...state.values()].filter((s) => s.inMaintenance).map((s) => s.plan.name);
    if (resuming.length) record.log(`Already in maintenance mode from an earlier deployment: ${resuming.join(', ')}. Resuming from there.`);
  }

  function usesClones() {
    return request.mode !== 'maintenance-page' && plan.sites.some((s) => s.role === 'zdd' && !state.get(s.name)!.inMaintenance) && plan.databases.length > 0;
  }

  // Phase 2: copy each database to its temporary database; readonly mode makes the copies refuse writes.
  async function cloneDatabases() {
    enter('clone');
    const inspection = await run(control.inspectEnvironment, 'Check for existing temporary databases', { environment: request.environment });
    const serving = [...state.values()].some((s) => s.inMaintenance && s.cloneSlot);
    for (const db of plan.databases) {
      const step = { environment: request.environment, database: db.name };
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
        await run(databaseWork.cloneDatabase, `Clone database ${db.name}`, step);
      }
      if (request.mode === 'readonly') await run(control.makeCloneReadOnly, `Make the copy of ${db.name} read-only`, step);
    }
  }

  // Phase 3: clones (or the maintenance page) take public traffic.
  async function enterMaintenance() {
    enter('enter-maintenance');
    const previous = record.previousPackage!;
    const prevRef = await run(control.describePackage, `Read package ${previous.version}`, { sha256: previous.sha256 });
    const outcomes = await Promise.allSettled(
      plan.sites.map(async (site) => {
        const progress = state.get(site.name)!;
        if (progress.inMaintenance) return;
        record.updateSite(site.name, { state: 'entering-maintenance' });
        if (site.role === 'zdd' && request.mode !== 'maintenance-page') {
          record.log(`Enabling zero downtime deployment mode ${request.mode} on site ${site.name}`);
          const slot = await startAndWarm(site, previous.sha256, 'temporary', request.mode === 'readonly', site.warmupPath ?? prevRef.warmupPath);
          const route: RouteTarget = { kind: 'slot', slotId: slot.slotId, port: slot.port, package: previous };
          await run(control.routePublicTraffic, `Send ${site.name} traffic to its clone`, { environment: request.environment, site: site.name, route, drainTimeoutMs });
          progress.cloneSlot = route;
          record.updateSite(site.name, { state: 'in-maintenance', serving: slot.slotId });
        } else {
          record.log(`Putting site ${site.name} in maintenance mode`);
          const route: RouteTarget = { kind: 'maintenance', message: `${site.name} is being upgraded to ${request.package.version}`, package: previous };
          await run(control.routePublicTraffic, `Show the maintenance page on ${site.name}`, { environment: request.environment, site: site.name, route, drainTimeoutMs });
          record.updateSite(site.name, { state: 'in-maintenance', serving: 'maintenance-page' });
        }
        progress.inMaintenance = true;
      }),
    );
    const failed = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [{ site: plan.sites[i]!.name, error: o.reason as unknown }] : []));
    if (failed.length === 0) {
      record.log('All sites in this deployment are now in maintenance mode');
      return;
    }
    for (const f of failed) {
      const c = classify(f.error);
      record.updateSite(f.site, { state: 'failed', error: c.message });
      record.log(`Site ${f.site} could not enter maintenance mode: ${c.message}`, 'error');
    }
    const inMaintenance = plan.sites.filter((s) => state.get(s.name)!.inMaintenance).map((s) => s.name);
    if (inMaintenance.length) record.log(`Sites left in maintenance mode: ${inMaintenance.join(', ')}`, 'warn');
    record.log('At least one maintenance mode operation failed. Investigate the logs and try again.', 'error');
    throw withSite(failed[0]!.error, failed[0]!.site);
  }

  // Phase 4: no old slot writes to the originals any more; take restore points, migrate, start the new version.
  async function upgrade() {
    enter('upgrade');
    if (record.previousPackage) {
      for (const site of plan.sites) {
        record.updateSite(site.name, { state: 'upgrading' });
        const slotId = slotIdFor({ environment: request.environment, site: site.name, packageSha256: record.previousPackage.sha256, databases: 'original' });
        await run(host.stopSlot, `Stop the old version of ${site.name}`, { slotId });
      }
    }
    for (const db of plan.databases) {
      const step = { environment: request.environment, database: db.name };
      record.log(`Taking a restore point of database ${db.name}`);
      await run(databaseWork.createRestorePoint, `Restore point of ${db.name}`, step);
      const result = await run(databaseWork.applyMigrations, `Migrate ${db.name} to ${request.package.version}`, { ...step, packageSha256: request.package.sha256 });
      record.log(result.applied.length ? `Applied migrations to ${db.name}: ${result.applied.join(', ')}` : `No new migrations for ${db.name}`);
    }
    for (const site of plan.sites) {
      record.log(`Starting ${request.package.version} on site ${site.name}`);
      const slot = await run(host.startSlot, `Start ${request.package.version} on ${site.name}`, {
        environment: request.environment, site: site.name, packageSha256: request.package.sha256, databases: 'original', readOnly: false,
      });
      state.get(site.name)!.preview = { kind: 'slot', slotId: slot.slotId, port: slot.port, package: served(request.package) };
      record.updateSite(site.name, { previewSlot: slot.slotId });
    }
  }

  // Phase 5: the preview must answer 200 on its warmup path in time.
  async function warmUp() {
    enter('warmup');
    for (const site of plan.sites) {
      const preview = state.get(site.name)!.preview!;
      record.log(`Warming up ${request.package.version} on site ${site.name}`);
      await warm(site, preview, site.warmupPath ?? request.package.warmupPath);
      await run(control.routePreview, `Preview ${site.name}`, { environment: request.environment, site: site.name, route: preview });
      record.updateSite(site.name, { state: 'preview' });
      record.log(`Site ${site.name}: ${request.package.version} is ready on its preview address ${site.previewUrl}`);
    }
  }

  // Phase 7a: public traffic moves to the new version; clones stop; temporary databases go.
  async function complete() {
    enter('completing');
    for (const site of plan.sites) {
      const progress = state.get(site.name)!;
      record.updateSite(site.name, { state: 'going-live' });
      await run(control.routePublicTraffic, `Send ${site.name} traffic to ${request.package.version}`, { environment: request.environment, site: site.name, route: progress.preview!, drainTimeoutMs });
      await run(control.routePreview, `Close the preview of ${site.name}`, { environment: request.environment, site: site.name, route: null });
      record.updateSite(site.name, { state: 'live', serving: progress.preview!.kind === 'slot' ? progress.preview!.slotId : null, previewSlot: null });
      record.log(`Site ${site.name} now serves ${request.package.version}`);
    }
    await leaveMaintenance();
    enter('completed');
    record.log(`Deployment completed: ${request.environment} runs ${request.package.version}`);
  }

  // Phase 7b: the previous version goes back on the original databases (restored when asked); traffic moves back.
  async function reset(rollbackDatabase: boolean) {
    enter('resetting');
    for (const site of plan.sites) {
      record.updateSite(site.name, { state: 'rolling-back' });
      await run(control.routePreview, `Close the preview of ${site.name}`, { environment: request.environment, site: site.name, route: null });
      const slotId = slotIdFor({ environment: request.environment, site: site.name, packageSha256: request.package.sha256, databases: 'original' });
      await run(host.stopSlot, `Stop ${request.package.version} on ${site.name}`, { slotId });
    }
    if (rollbackDatabase) {
      const inspection = await run(control.inspectEnvironment, 'Look for restore points', { environment: request.environment });
      for (const db of plan.databases) {
        if (!inspection.databases[db.name]?.restorePoint.exists) {
          record.log(`Database ${db.name} has no restore point: it was not changed by this deployment`);
          continue;
        }
        record.log(`Restoring database ${db.name} to its restore point`);
        await run(databaseWork.restoreDatabase, `Restore ${db.name}`, { environment: request.environment, database: db.name });
      }
    }
    const previous = record.previousPackage;
    if (previous) {
      const prevRef = await run(control.describePackage, `Read package ${previous.version}`, { sha256: previous.sha256 });
      for (const site of plan.sites) {
        const slot = await startAndWarm(site, previous.sha256, 'original', false, site.warmupPath ?? prevRef.warmupPath);
        const route: RouteTarget = { kind: 'slot', slotId: slot.slotId, port: slot.port, package: previous };
        await run(control.routePublicTraffic, `Send ${site.name} traffic back to ${previous.version}`, { environment: request.environment, site: site.name, route, drainTimeoutMs });
        record.updateSite(site.name, { state: 'live', serving: slot.slotId, previewSlot: null });
        record.log(`Site ${site.name} serves ${previous.version} again`);
      }
    } else {
      for (const site of plan.sites) {
        const route: RouteTarget = { kind: 'maintenance', message: `${site.name} has no live version` };
        await run(control.routePublicTraffic, `Take ${site.name} offline`, { environment: request.environment, site: site.name, route, drainTimeoutMs });
        record.updateSite(site.name, { state: 'live', serving: null, previewSlot: null });
      }
    }
    await leaveMaintenance();
    enter('reset');
    record.log(`Deployment reset (${rollbackDatabase ? 'code and database rolled back' : 'code rolled back, database kept'})${previous ? `: ${request.environment} runs ${previous.version}` : ''}`);
  }

  /** Clones stop only after traffic left them; temporary databases are dropped only after that (promise 3). */
  async function leaveMaintenance() {
    for (const site of plan.sites) {
      const clone = state.get(site.name)!.cloneSlot;
      if (clone?.kind === 'slot') await run(host.stopSlot, `Stop the clone of ${site.name}`, { slotId: clone.slotId });
    }
    for (const db of plan.databases) {
      const step = { environment: request.environment, database: db.name };
      await run(control.dropTemporaryDatabase, `Drop the temporary copy of ${db.name}`, step);
      await run(control.dropRestorePoint, `Drop the restore point of ${db.name}`, step);
    }
  }

  async function startAndWarm(site: SitePlan, packageSha256: string, databases: 'original' | 'temporary', readOnly: boolean, warmupPath: string): Promise<SlotInfo> {
    const slot = await run(host.startSlot, `Start slot of ${site.name} on ${databases} databases`, {
      environment: request.environment, site: site.name, packageSha256, databases, readOnly,
    });
    await warm(site, { kind: 'slot', slotId: slot.slotId, port: slot.port }, warmupPath);
    return slot;
  }

  /** A slot that fails its warm-up never gets traffic (promise 1), and is stopped so it does not linger. */
  async function warm(site: SitePlan, route: RouteTarget, path: string) {
    if (route.kind !== 'slot') return;
    try {
      await warmup.warmUpSlot.executeWithOptions(
        { summary: `Warm up ${route.slotId}`, startToCloseTimeout: site.warmupTimeoutMs + 30_000 } as ActivityOptions,
        [{ slotId: route.slotId, path, timeoutMs: site.warmupTimeoutMs }],
      );
    } catch (error) {
      record.log(`Slot ${route.slotId} failed its warm-up on ${path}: stopping it`, 'error');
      await run(host.stopSlot, `Stop the failed slot ${route.slotId}`, { slotId: route.slotId }).catch(() => undefined);
      throw error;
    }
  }

  async function tellEnvironmentWeFailed() {
    const parent = workflowInfo().parent;
    if (!parent) return;
    try {
      await getExternalWorkflowHandle(parent.workflowId).signal(deploymentFailedSignal, { deploymentId: request.deploymentId });
    } catch (err) {
      workflowLog.warn('could not tell the environment that the deployment failed', { err: String(err) });
    }
  }

  /** Failed, but Reset stays available until a new deployment supersedes this one or the verification window ends. */
  async function waitAfterFailure(): Promise<DeploymentStatus> {
    record.waitingAfterFailure = true;
    upsertSearchAttributes([{ key: phaseKey, value: 'failed' }]);
    const acted = await condition(() => record.decision !== null || superseded, plan.verificationTimeoutMs);
    record.waitingAfterFailure = false;
    if (acted && record.decision?.action === 'reset') {
      try {
        await reset(record.decision.rollbackDatabase);
        await announce('reset');
        return record.status();
      } catch (error) {
        record.fail(classify(error));
      }
    } else if (superseded) {
      record.log('A new deployment of this environment takes over from here.');
    }
    const failure = record.failure!;
    throw ApplicationFailure.create({ type: failure.class, message: `${failureClasses[failure.class].title}: ${failure.message}`, nonRetryable: true, details: [record.status()] });
  }
}

interface SiteProgress {
  plan: SitePlan;
  inMaintenance: boolean;
  cloneSlot: RouteTarget | null;
  preview: RouteTarget | null;
}

function served(pkg: { sha256: string; version: string }): ServedPackage {
  return { sha256: pkg.sha256, version: pkg.version };
}

function withSite(error: unknown, site: string): unknown {
  (error as { cutoverSite?: string }).cutoverSite = site;
  return error;
}

/** Maps what really happened to a failure class of the design brief. */
export function classify(error: unknown): ClassifiedFailure {
  const site = (error as { cutoverSite?: string } | undefined)?.cutoverSite;
  let cause: unknown = error;
  while (cause instanceof ActivityFailure && cause.cause) cause = cause.cause;
  let failureClass: FailureClass = 'transient';
  let message = error instanceof Error ? error.message : String(error);
  if (cause instanceof ApplicationFailure) {
    message = cause.message;
    if (isFailureClass(cause.type)) failureClass = cause.type;
  } else if (cause instanceof TimeoutFailure) {
    message = `timed out (${cause.timeoutType})`;
  } else if (cause instanceof Error) {
    message = cause.message;
  }
  return { class: failureClass, message, remediation: failureClasses[failureClass].remediation, ...(site ? { site } : {}) };
}

function describeRoutes(routes: Record<string, { live: RouteTarget | null }>): string {
  const parts = Object.entries(routes).map(([site, r]) =>
    `${site} ${r.live === null ? 'serves nothing' : r.live.kind === 'maintenance' ? 'shows the maintenance page' : `serves ${r.live.slotId}`}`,
  );
  return parts.join(', ') || 'no sites';
}

function formatMs(ms: number): string {
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  return `${Math.round(ms / 1000)}s`;
}

