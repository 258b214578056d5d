/** The worker's activities, built from their dependencies so tests and the worker inject real ones. */
import { Context } from '@temporalio/activity';
import type { LoadedConfig } from '../config/load.js';
import type { DatabaseHandle, DatabaseEngine, MigrationResult, UndoResult } from '../engines/engine.js';
import { planExpandContract, type ExpandContractPlan } from '../engines/migration-phases.js';
import { engineFor, resolveDatabaseHandle } from '../engines/index.js';
import type { PackageStore } from '../packages/store.js';
import { dataPlaneFor } from '../platform/data-plane/for-environment.js';
import type { DataPlane } from '../platform/data-plane/port.js';
import { fromTarget, toLiveTarget, toSlotTarget } from '../platform/data-plane/route-target.js';
import type { PackageRef } from '../packages/manifest.js';
import type {
  DatabaseStep,
  EnvironmentInspection,
  EnvironmentPlan,
  MigrationStep,
  UndoMigrationsStep,
  RouteStep,
  RouteTarget,
  StopFollowingStep,
  ReplayStep,
} from './contract.js';
import type { CaptureResult, ReplayResult } from '../engines/write-capture.js';
import { withHeartbeat } from '../engines/heartbeat.js';
import { environmentConfig, planFor } from './environments.js';
import { asActivityFailure, dataPlaneRefusalIsFinal, invalidInput } from './failures.js';
import { missingFrom } from '../engines/migration-history.js';

export interface ActivityDeps {
  config: LoadedConfig;
  store: PackageStore;
  /** Where connection strings are read from; process.env in production. */
  env?: NodeJS.ProcessEnv;
}

export function createActivities({ config, store, env = process.env }: ActivityDeps) {
  const heartbeat = (details?: unknown) => Context.current().heartbeat(details);

  function database(step: DatabaseStep): { engine: DatabaseEngine; handle: DatabaseHandle } {
    const dbConfig = environmentConfig(config, step.environment).databases.find((d) => d.name === step.database);
    if (!dbConfig) throw invalidInput(`environment ${step.environment} has no database "${step.database}"`);
    return { engine: engineFor(dbConfig, { postgres: config.postgres }), handle: resolveDatabaseHandle(dbConfig, env) };
  }
  const onDatabase = <T>(step: DatabaseStep, work: (engine: DatabaseEngine, handle: DatabaseHandle) => Promise<T>) =>
    asActivityFailure(() => {
      const { engine, handle } = database(step);
      return work(engine, handle);
    });
  const allowsMissing = (step: MigrationStep) =>
    step.allowMissingMigrations === true || environmentConfig(config, step.environment).migrations.allowMissing;
  // One adapter per environment, kept: HAProxy's and nginx's serialise their changes within it.
  const dataPlanes = new Map<string, DataPlane>();
  const dataPlane = (environment: string): DataPlane => {
    let plane = dataPlanes.get(environment);
    if (!plane) dataPlanes.set(environment, (plane = dataPlaneFor(config, environment, env)));
    return plane;
  };

  return {
    async describeEnvironment({ environment }: { environment: string }): Promise<EnvironmentPlan> {
      return planFor(config, environment);
    },

    async describePackage({ sha256 }: { sha256: string }): Promise<PackageRef> {
      return (await store.getPackage(sha256)).ref;
    },

    /** The real state: routes from the data plane, what exists in each database. */
    async inspectEnvironment({ environment }: { environment: string }): Promise<EnvironmentInspection> {
      const routes = await dataPlaneRefusalIsFinal(() => dataPlane(environment).routes());
      const databases: EnvironmentInspection['databases'] = {};
      for (const db of environmentConfig(config, environment).databases) {
        databases[db.name] = await onDatabase({ environment, database: db.name }, (engine, handle) => engine.inspect(handle));
      }
      const sites: EnvironmentInspection['routes'] = {};
      for (const [name, site] of Object.entries(routes))
        sites[name] = { live: site.live && fromTarget(site.live), preview: site.preview && fromTarget(site.preview) };
      return { routes: sites, databases };
    },

    cloneDatabase: (step: DatabaseStep) => onDatabase(step, (engine, handle) => engine.copyToTemporary(handle, heartbeat)),
    makeCloneReadOnly: (step: DatabaseStep) => onDatabase(step, (engine, handle) => engine.makeTemporaryReadOnly(handle)),
    createRestorePoint: (step: DatabaseStep) => onDatabase(step, (engine, handle) => engine.createRestorePoint(handle, heartbeat)),
    restoreDatabase: (step: DatabaseStep) => onDatabase(step, (engine, handle) => engine.restoreFromRestorePoint(handle, heartbeat)),
    dropRestorePoint: (step: DatabaseStep) => onDatabase(step, (engine, handle) => engine.dropRestorePoint(handle)),
    dropTemporaryDatabase: (step: DatabaseStep) => onDatabase(step, (engine, handle) => engine.dropTemporary(handle)),
    /** The copy stops receiving the original's writes, once it has every one committed so far (up to timeoutMs). */
    stopFollowingOriginal: ({ timeoutMs, ...step }: StopFollowingStep) =>
      onDatabase(step, (engine, handle) => engine.stopFollowing(handle, heartbeat, timeoutMs === undefined ? {} : { timeoutMs })),

    /** readwrite-replay: the copy records every change the clone makes from now on; idempotent. */
    startWriteCapture: (step: DatabaseStep): Promise<CaptureResult> =>
      onDatabase(step, (engine, handle) => {
        if (!engine.startCapture) throw invalidInput(`database ${step.database}: the ${engine.name} engine cannot capture writes`);
        return withHeartbeat(
          heartbeat,
          () => ({ step: 'start capture' }),
          () => engine.startCapture!(handle),
        );
      }),
    /** readwrite-replay: the changes the clone made since the last replay go onto the original; final once it takes no more. */
    replayWrites: ({ final, ...step }: ReplayStep): Promise<ReplayResult> =>
      onDatabase(step, (engine, handle) => {
        if (!engine.replayChanges) throw invalidInput(`database ${step.database}: the ${engine.name} engine cannot replay writes`);
        return engine.replayChanges(handle, heartbeat, final ? { final: true } : {});
      }),

    /** Preflight: a package that lacks migrations the database applied is refused before anything moves. */
    async checkMigrations(step: MigrationStep): Promise<{ missing: string[] }> {
      const pkg = await store.getPackage(step.packageSha256);
      return onDatabase(step, async (engine, handle) => {
        const { appliedMigrations } = await engine.inspect(handle);
        return {
          missing: missingFrom(appliedMigrations, await store.readMigrations(pkg, engine.name), { allowMissing: allowsMissing(step) }),
        };
      });
    },

    async applyMigrations(step: MigrationStep): Promise<MigrationResult> {
      const pkg = await store.getPackage(step.packageSha256);
      const allowMissing = allowsMissing(step);
      const phase = step.phase ? { phase: step.phase } : {};
      // A package may carry engine-specific migrations (migrations.sqlserver/) beside the shared ones.
      return onDatabase(step, async (engine, handle) =>
        engine.applyMigrations(handle, await store.readMigrations(pkg, engine.name), heartbeat, { allowMissing, ...phase }),
      );
    },

    /** Expand/contract mode, in preflight: the pending expand and contract migrations; refused when one needs a clone. */
    async planExpandContract(step: MigrationStep): Promise<ExpandContractPlan & { engineCanUndo: boolean }> {
      const pkg = await store.getPackage(step.packageSha256);
      return onDatabase(step, async (engine, handle) => {
        const { appliedMigrations } = await engine.inspect(handle);
        const plan = planExpandContract(appliedMigrations, await store.readMigrations(pkg, engine.name));
        return { ...plan, engineCanUndo: engine.undoMigrations !== undefined };
      });
    },

    /** The old version failed on the expanded schema: these expand migrations are reverted with their undo scripts. */
    async undoMigrations(step: UndoMigrationsStep): Promise<UndoResult> {
      const pkg = await store.getPackage(step.packageSha256);
      return onDatabase(step, async (engine, handle) => {
        if (!engine.undoMigrations) throw invalidInput(`the ${engine.name} engine cannot undo migrations`);
        const wanted = new Set(step.names);
        const migrations = (await store.readMigrations(pkg, engine.name)).filter((m) => wanted.has(m.name));
        return engine.undoMigrations(handle, migrations, heartbeat);
      });
    },

    /** Switches public traffic; returns once requests in flight to the previous target are drained. */
    async routePublicTraffic({ environment, site, route, drainTimeoutMs }: RouteStep & { route: RouteTarget }) {
      const result = await dataPlaneRefusalIsFinal(() =>
        dataPlane(environment).setLive(site, toLiveTarget(route), drainTimeoutMs ? { drainTimeoutMs } : undefined),
      );
      return { drained: result.drained, drainMs: result.drainMs };
    },

    /**
     * Holds public traffic until the next switch (readwrite-replay's final replay runs meanwhile); returns once the live
     * target drained. `held: false` when the data plane cannot hold (HAProxy, nginx): nothing changed.
     */
    async holdPublicTraffic({ environment, site, timeoutMs, drainTimeoutMs }: RouteStep & { timeoutMs: number }) {
      const plane = dataPlane(environment);
      if (!plane.hold) return { held: false, drained: true, drainMs: 0 };
      const options = { timeoutMs, ...(drainTimeoutMs ? { drainTimeoutMs } : {}) };
      const result = await dataPlaneRefusalIsFinal(() => plane.hold!(site, options));
      return { held: true, drained: result.drained, drainMs: result.drainMs };
    },

    /** A canary of the live target: `percent` of public clients to the slot `route` (sticky per client); null removes it. */
    async setCanary({ environment, site, canary, drainTimeoutMs }: RouteStep & { canary: CanaryStep | null }) {
      if (canary && canary.route.kind !== 'slot') throw invalidInput('a canary must be a slot');
      const plane = dataPlane(environment);
      if (!plane.setCanary) throw invalidInput(`the data plane of environment ${environment} cannot split traffic for a canary`);
      const slot = canary && toSlotTarget(canary.route as Extract<RouteTarget, { kind: 'slot' }>);
      const target = canary && { target: slot!, percent: canary.percent, ...(canary.allow ? { allow: canary.allow } : {}) };
      const result = await dataPlaneRefusalIsFinal(() => plane.setCanary!(site, target, drainTimeoutMs ? { drainTimeoutMs } : undefined));
      return { drained: result.drained, drainMs: result.drainMs };
    },

    async routePreview({ environment, site, route }: RouteStep & { route: RouteTarget | null }) {
      if (route && route.kind !== 'slot') throw invalidInput('a preview must be a slot');
      await dataPlaneRefusalIsFinal(() => dataPlane(environment).setPreview(site, route && toSlotTarget(route)));
    },
  };
}

export type CutoverActivities = ReturnType<typeof createActivities>;

/** A canary as a deployment sets it: the new version's route, its share, and who always gets it. */
interface CanaryStep {
  route: RouteTarget;
  percent: number;
  allow?: Array<{ header?: string; cookie?: string; value: string }>;
}
