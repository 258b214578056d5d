/** Types shared by the worker's activities and the workflows that call them (type-only for workflows). */
import type { DatabaseInspection, MigrationPhase } from '../engines/engine.js';
import type { AnalysisSpec } from '../workflows/analysis-definitions.js';
import type { BakeSpec } from '../workflows/bake-definitions.js';
import type { PackageRef } from '../packages/manifest.js';
import type { ServedPackage } from '../platform/data-plane/target-fields.js';
import type { MaintenanceRouteInput, SlotRouteInput } from '../platform/router/routes.js';
import type { SiteRole } from '../workflows/definitions.js';

/**
 * A route as a deployment sends it to the router: a slot (one copy, `host` defaulting to loopback, or its copies on
 * several hosts as replicas), or the maintenance page.
 */
export type RouteTarget = SlotRouteInput | MaintenanceRouteInput;

export interface SitePlan {
  name: string;
  role: SiteRole;
  warmupPath?: string;
  warmupTimeoutMs: number;
  publicUrl: string;
  previewUrl: string;
}

/** An environment's configuration as the workflow needs it: no secrets, only names and shapes. */
export interface EnvironmentPlan {
  name: string;
  host: string;
  hostTaskQueue: string;
  /** The hosts its slots run on, each with its agent's task queue; absent in plans from before several hosts (then: host). */
  hosts?: Array<{ name: string; address: string; taskQueue: string }>;
  verificationTimeoutMs: number;
  timeouts: { stepMs: number; heartbeatMs: number; databaseWorkMs: number };
  /** Set when the environment has a Slack channel for approvals. */
  slack: { reminderIntervalMs: number } | null;
  sites: SitePlan[];
  databases: Array<{ name: string; engine: 'postgres' | 'sqlserver' }>;
  /** Checks while the deployment awaits verification; absent in plans from before analysis. */
  analysis?: AnalysisSpec | null;
  /** The bake after Complete; absent in plans from before bake. */
  bake?: BakeSpec | null;
}

export interface SiteRoutes {
  live: RouteTarget | null;
  preview: RouteTarget | null;
}

/** The real state of an environment, read from the router and the databases. */
export interface EnvironmentInspection {
  routes: Record<string, SiteRoutes>;
  databases: Record<string, DatabaseInspection>;
}

export interface DatabaseStep {
  environment: string;
  database: string;
}

export interface StopFollowingStep extends DatabaseStep {
  /** How long to wait for the copy to receive what the original committed (the engine's default, 30 s, when absent). */
  timeoutMs?: number;
}

/** readwrite-replay: final once the copy takes no more writes (the switch, or a Reset); never before. */
export interface ReplayStep extends DatabaseStep {
  final?: boolean;
}

export interface MigrationStep extends DatabaseStep {
  packageSha256: string;
  /** The request allows a package that lacks migrations the database applied; the environment's config may allow it too. */
  allowMissingMigrations?: boolean;
  /** Expand/contract mode: apply only the pending migrations of this phase. */
  phase?: MigrationPhase;
}

/** Expand/contract mode: the expand migrations this deployment applied, to revert with the package's undo scripts. */
export interface UndoMigrationsStep extends DatabaseStep {
  packageSha256: string;
  names: string[];
}

export interface RouteStep {
  environment: string;
  site: string;
  /** How long requests in flight to the previous target may take to finish. */
  drainTimeoutMs?: number;
}

export type { PackageRef, ServedPackage };
