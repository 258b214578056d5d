/**
 * An in-memory platform for workflow-logic tests: the activities the deployment workflow calls, with the state
 * they would change (routes, slots, databases) and a log of every call. Failures are injected per activity.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { AnalysisEvidence, AnalysisSpec, AnalyzePreviewInput } from '../../src/workflows/analysis-definitions.js';
import type { EnvironmentInspection, EnvironmentPlan, RouteTarget } from '../../src/activities/contract.js';
import { slotIdFor, type SlotInfo, type SlotSpec } from '../../src/platform/agent/contract.js';
import type { PackageRef } from '../../src/packages/manifest.js';
import type { createActivities } from '../../src/activities/index.js';
import type { ReplayConflict } from '../../src/engines/write-capture.js';
import type { BakeSpec, BakeTraffic, MeasureLiveTrafficInput } from '../../src/workflows/bake-definitions.js';

type ControlActivities = ReturnType<typeof createActivities>;

export interface FakeOptions {
  sites?: Array<{ name: string; role: 'zdd' | 'maintenance-page' }>;
  verificationTimeoutMs?: number;
  slackReminderMs?: number;
  /** The environment's analysis during verification; the fake analyzePreview answers with `fake.analysis`. */
  analysis?: AnalysisSpec;
  /** The environment's bake after Complete; the fake measureLiveTraffic answers with `fake.bakeTraffic`. */
  bake?: BakeSpec;
  /** Several hosts, each with its own agent (task queue) and slots; the first is the environment's host. */
  hosts?: string[];
  /** The data plane cannot hold public traffic (HAProxy, nginx): holdPublicTraffic answers held: false. */
  cannotHold?: boolean;
}

export const pkg = (version: string): PackageRef => ({
  sha256: version
    .padEnd(64, '0')
    .replace(/[^0-9a-f]/g, 'a')
    .slice(0, 64),
  name: 'app',
  version,
  warmupPath: '/healthz',
});

export function createFakePlatform(environment: string, hostQueue: string, options: FakeOptions = {}) {
  const sites = options.sites ?? [{ name: 'web', role: 'zdd' as const }];
  const routes: Record<string, { live: RouteTarget | null; preview: RouteTarget | null }> = Object.fromEntries(
    sites.map((s) => [s.name, { live: null, preview: null }]),
  );
  const slots = new Map<string, SlotInfo>();
  const hostNames = options.hosts ?? [];
  /** Several hosts: each host's own slots (the same slot id on several hosts, a port each). */
  const slotsOn = new Map<string, Map<string, SlotInfo>>(hostNames.map((name) => [name, new Map()]));
  const hostAddress = (name: string) => `10.0.0.${hostNames.indexOf(name) + 1}`;
  const db = { temporary: false, restorePoint: false };
  /** Expand/contract mode: the pending migrations of each phase that planExpandContract reports. */
  const phased = { expand: [] as string[], contract: [] as string[], withoutUndo: [] as string[], engineCanUndo: true };
  const packages = new Map<string, PackageRef>();
  /** readwrite-replay: what the next replays of the clone's writes answer. */
  const replays: Array<{ applied: number; conflicts: ReplayConflict[] }> = [];
  const replayTotal = { applied: 0, conflicts: 0 };
  const calls: string[] = [];
  /** activity name → error to throw (once per listed entry, or always with `always`). */
  const failures = new Map<string, { error: () => Error; when?: (input: any) => boolean }>();
  const slackEvents: string[] = [];
  /** Set by a test after the worker started: the worker keeps the activity functions it was given. */
  const hooks: { beforeSlack?: (event: string) => Promise<void> } = {};
  let port = 40000;

  const plan: EnvironmentPlan = {
    name: environment,
    host: 'fake',
    hostTaskQueue: hostQueue,
    verificationTimeoutMs: options.verificationTimeoutMs ?? 60_000,
    timeouts: { stepMs: 5_000, heartbeatMs: 5_000, databaseWorkMs: 10_000 },
    slack: options.slackReminderMs ? { reminderIntervalMs: options.slackReminderMs } : null,
    sites: sites.map((s) => ({
      ...s,
      warmupTimeoutMs: 1_000,
      publicUrl: `http://fake/${s.name}`,
      previewUrl: `http://fake/${s.name}-preview`,
    })),
    databases: [{ name: 'app', engine: 'postgres' }],
    analysis: options.analysis ?? null,
    bake: options.bake ?? null,
    ...(hostNames.length
      ? {
          hosts: hostNames.map((name, i) => ({
            name,
            address: hostAddress(name),
            taskQueue: i === 0 ? hostQueue : `${hostQueue}-${name}`,
          })),
        }
      : {}),
  };
  /** What the fake analysis answers, after how long; whether the workflow cancelled it (someone decided first). */
  const analysis: { evidence: AnalysisEvidence | null; delayMs: number; cancelled: boolean } = {
    evidence: null,
    delayMs: 0,
    cancelled: false,
  };
  /**
   * What each bake (or canary) measurement answers per slot: `errorRate` from the given interval on (counted from 1), or
   * once a canary is at `failingAt` percent or more.
   */
  const bakeTraffic: { failingFrom: number; intervals: number; failingAt?: number } = { failingFrom: Infinity, intervals: 0 };
  /** Each site's canary (slot and percent), null without one. */
  const canaries: Record<string, { slotId: string; percent: number } | null> = {};

  function track(name: string, input: unknown) {
    calls.push(`${name} ${JSON.stringify(input)}`);
    const failure = failures.get(name);
    if (failure && (!failure.when || failure.when(input))) throw failure.error();
  }

  const control = {
    async describeEnvironment(input: unknown) {
      track('describeEnvironment', input);
      return plan;
    },
    async describePackage(input: { sha256: string }) {
      track('describePackage', input);
      return packages.get(input.sha256)!;
    },
    async inspectEnvironment(input: unknown): Promise<EnvironmentInspection> {
      track('inspectEnvironment', input);
      const inspection = {
        original: { exists: true },
        temporary: { exists: db.temporary, readOnly: false },
        restorePoint: { exists: db.restorePoint },
        appliedMigrations: [],
      };
      return { routes: structuredClone(routes), databases: { app: inspection } };
    },
    async cloneDatabase(input: unknown) {
      track('cloneDatabase', input);
      db.temporary = true;
      return { following: true };
    },
    async stopFollowingOriginal(input: unknown) {
      track('stopFollowingOriginal', input);
      return { wasFollowing: true, caughtUp: true, waitedMs: 1, lagBytes: 0, sequencesSynced: 0 };
    },
    async startWriteCapture(input: unknown) {
      track('startWriteCapture', input);
      return { captureId: 'fake-capture', tables: 1, sequencesMoved: 1, sequenceGap: 1_000_000_000 };
    },
    /** readwrite-replay: each call answers the next of `replays` (then nothing new), with totals summed. */
    async replayWrites(input: { final?: boolean }) {
      track('replayWrites', input);
      const next = replays.shift() ?? { applied: 0, conflicts: [] };
      replayTotal.applied += next.applied;
      replayTotal.conflicts += next.conflicts.length;
      return {
        applied: next.applied,
        conflicts: next.conflicts,
        conflictCount: next.conflicts.length,
        total: { ...replayTotal },
        sequencesSynced: input.final ? 1 : 0,
      };
    },
    async makeCloneReadOnly(input: unknown) {
      track('makeCloneReadOnly', input);
    },
    async createRestorePoint(input: unknown) {
      track('createRestorePoint', input);
      db.restorePoint = true;
    },
    async restoreDatabase(input: unknown) {
      track('restoreDatabase', input);
    },
    async dropRestorePoint(input: unknown) {
      track('dropRestorePoint', input);
      db.restorePoint = false;
    },
    async dropTemporaryDatabase(input: unknown) {
      track('dropTemporaryDatabase', input);
      db.temporary = false;
    },
    async checkMigrations(input: unknown) {
      track('checkMigrations', input);
      return { missing: [] };
    },
    async applyMigrations(input: { phase?: 'expand' | 'contract' }) {
      track('applyMigrations', input);
      return { applied: input.phase ? [...phased[input.phase]] : [] };
    },
    async planExpandContract(input: unknown) {
      track('planExpandContract', input);
      return structuredClone(phased);
    },
    async undoMigrations(input: { names: string[] }) {
      track('undoMigrations', input);
      return { undone: [...input.names].reverse() };
    },
    async routePublicTraffic(input: { site: string; route: RouteTarget }) {
      track('routePublicTraffic', input);
      routes[input.site]!.live = input.route;
      canaries[input.site] = null;
      return { drained: true, drainMs: 0 };
    },
    async holdPublicTraffic(input: { site: string; timeoutMs: number }) {
      track('holdPublicTraffic', input);
      return { held: !options.cannotHold, drained: true, drainMs: 0 };
    },
    async routePreview(input: { site: string; route: RouteTarget | null }) {
      track('routePreview', input);
      routes[input.site]!.preview = input.route;
    },
    /** The router's canary of a site: ends with a live switch (routePublicTraffic), as the real one. */
    async setCanary(input: { site: string; canary: { route: RouteTarget; percent: number } | null }) {
      track('setCanary', input);
      canaries[input.site] = input.canary && { slotId: (input.canary.route as { slotId: string }).slotId, percent: input.canary.percent };
      return { drained: true, drainMs: 0 };
    },
    async notifySlack(input: { event: string }) {
      await hooks.beforeSlack?.(input.event);
      slackEvents.push(input.event);
      return { channel: 'C1', ts: '1.0' };
    },
  } satisfies Record<keyof ControlActivities | 'notifySlack', unknown>;

  /** The host agent's activities; on a named host (several hosts) its calls carry the host's name. */
  const hostActivitiesOf = (hostName: string | null) => {
    const slots = hostName ? slotsOn.get(hostName)! : slotsOfOneHost;
    const track = (name: string, input: object) => trackCall(name, hostName ? { ...input, host: hostName } : input);
    return {
      async startSlot(spec: SlotSpec): Promise<SlotInfo> {
        track('startSlot', spec);
        // Idempotent, as the real agent: a running slot is found again.
        const running = slots.get(slotIdFor(spec));
        if (hostName && running?.state === 'running') return running;
        const slotId = slotIdFor(spec);
        const pkgRef = packages.get(spec.packageSha256)!;
        const slot: SlotInfo = {
          slotId,
          ...spec,
          packageVersion: pkgRef.version,
          port: ++port,
          pid: port,
          state: 'running',
          exitCode: null,
          startedAt: new Date().toISOString(),
        };
        slots.set(slotId, slot);
        return slot;
      },
      async stopSlot(input: { slotId: string }) {
        track('stopSlot', input);
        const slot = slots.get(input.slotId);
        if (!slot || slot.state !== 'running') return { stopped: false };
        slot.state = 'exited';
        return { stopped: true };
      },
      async warmUpSlot(input: { slotId: string }) {
        // The agent warms the slot on its own host.
        if (hostName && slots.get(input.slotId)?.state !== 'running')
          throw ApplicationFailure.create({
            type: 'warmup-failed',
            message: `no slot ${input.slotId} runs on ${hostName}`,
            nonRetryable: true,
          });
        track('warmUpSlot', input);
        return { status: 200, attempts: 1, elapsedMs: 1 };
      },
      async listSlots(input: object) {
        track('listSlots', input);
        return [...slots.values()];
      },
      async analyzePreview(input: AnalyzePreviewInput): Promise<AnalysisEvidence> {
        track('analyzePreview', input);
        try {
          await sleep(analysis.delayMs, undefined, { signal: Context.current().cancellationSignal });
        } catch (error) {
          analysis.cancelled = true;
          throw error;
        }
        if (!analysis.evidence) throw ApplicationFailure.create({ type: 'transient', message: 'no fake analysis evidence set' });
        return analysis.evidence;
      },
      async measureLiveTraffic(input: MeasureLiveTrafficInput): Promise<BakeTraffic[]> {
        track('measureLiveTraffic', input);
        await sleep(input.intervalMs);
        const failing = ++bakeTraffic.intervals >= bakeTraffic.failingFrom || (bakeTraffic.failingAt ?? Infinity) <= canaryPercent();
        return input.slots.map((s) => ({ ...s, requests: 50, failures: failing ? 25 : 0, errorRate: failing ? 0.5 : 0, p99Ms: 3 }));
      },
    };
  };
  const canaryPercent = () => Math.max(0, ...Object.values(canaries).map((c) => c?.percent ?? 0));
  const slotsOfOneHost = slots;
  const trackCall = track;
  const host = hostActivitiesOf(hostNames[0] ?? null);

  return {
    plan,
    routes,
    slots,
    db,
    phased,
    calls,
    slackEvents,
    analysis,
    bakeTraffic,
    canaries,
    replays,
    hooks,
    activities: control,
    hostActivities: host,
    /** Every host agent's task queue and activities (one unless `hosts`). */
    hostAgents: (hostNames.length ? hostNames : [null]).map((name, i) => ({
      name,
      taskQueue: plan.hosts?.[i]?.taskQueue ?? hostQueue,
      activities: i === 0 ? host : hostActivitiesOf(name),
    })),
    slotsOn,
    addPackage(ref: PackageRef) {
      packages.set(ref.sha256, ref);
    },
    /** Makes an activity throw a classified, non-retryable failure (when `when` matches its input). */
    failWith(activity: string, type: string, message: string, when?: (input: any) => boolean) {
      failures.set(activity, { error: () => ApplicationFailure.create({ type, message, nonRetryable: true }), when });
    },
    clearFailures() {
      failures.clear();
    },
    running: () => [...slots.values()].filter((s) => s.state === 'running'),
    /** A live version as if deployed earlier: a slot on the original databases serving each site. */
    goLive(ref: PackageRef) {
      packages.set(ref.sha256, ref);
      for (const s of hostNames.length ? sites : []) {
        const spec = { environment, site: s.name, packageSha256: ref.sha256, databases: 'original' as const, readOnly: false };
        const slotId = slotIdFor(spec);
        const replicas = hostNames.map((name) => {
          const info = {
            slotId,
            ...spec,
            packageVersion: ref.version,
            port: ++port,
            pid: port,
            state: 'running' as const,
            exitCode: null,
            startedAt: '',
          };
          slotsOn.get(name)!.set(slotId, info);
          return { host: hostAddress(name), port: info.port };
        });
        routes[s.name]!.live = { kind: 'slot', slotId, replicas, package: { sha256: ref.sha256, version: ref.version } };
      }
      for (const s of hostNames.length ? [] : sites) {
        const spec = { environment, site: s.name, packageSha256: ref.sha256, databases: 'original' as const, readOnly: false };
        const slotId = slotIdFor(spec);
        slots.set(slotId, {
          slotId,
          ...spec,
          packageVersion: ref.version,
          port: ++port,
          pid: port,
          state: 'running',
          exitCode: null,
          startedAt: '',
        });
        routes[s.name]!.live = { kind: 'slot', slotId, port, package: { sha256: ref.sha256, version: ref.version } };
      }
    },
  };
}
