/** Types shared by the worker's activities and the workflows that call them (type-only for workflows). */
import type { DatabaseInspection } from '../engines/engine.js';
import type { PackageRef } from '../packages/manifest.js';
import type { SiteRole } from '../workflows/definitions.js';

/** A package a route serves, so the real state tells which version is live even on a maintenance page. */
export interface ServedPackage {
  sha256: string;
  version: string;
}

export type RouteTarget =
  | { kind: 'slot'; slotId: string; port: number; host?: string; package?: ServedPackage }
  | { kind: 'maintenance'; message?: string; package?: ServedPackage };

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
  verificationTimeoutMs: number;
  timeouts: { stepMs: number; heartbeatMs: number; databaseWorkMs: number };
  /** Set when the environment has a Slack channel for approvals. */
  slack: { reminderIntervalMs: number } | null;
  sites: SitePlan[];
  databases: Array<{ name: string; engine: 'postgres' | 'sqlserver' }>;
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

export interface MigrationStep extends DatabaseStep {
  packageSha256: string;
  /** The request allows a package that lacks migrations the database applied; the environment's config may allow it too. */
  allowMissingMigrations?: boolean;
}

export interface RouteStep {
  environment: string;
  site: string;
  /** How long requests in flight to the previous target may take to finish. */
  drainTimeoutMs?: number;
}

export type { PackageRef };
