/**
 * What the outside world may say to and ask of Cutover's workflows. Side-effect free: the API,
 * the Slack bot and the CLI import it as well as the workflows.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { AnalysisSpec, AnalysisStatus } from './analysis-definitions.js';
import type { BakeSpec, BakeStatus } from './bake-definitions.js';
import type { CanarySpec, CanaryStatus } from './canary-definitions.js';
import type { ClassifiedFailure } from '../failures.js';
import type { PackageRef } from '../packages/manifest.js';

/**
 * expand-contract: no clone; the old version serves on the expanded schema until Complete. readwrite-replay: the clone
 * accepts writes, captured and replayed onto the migrated originals (docs/data-safety.md).
 */
export const modes = ['readonly', 'readwrite', 'maintenance-page', 'expand-contract', 'readwrite-replay'] as const;
export type Mode = (typeof modes)[number];

export const phases = [
  'preflight',
  'expand',
  'clone',
  'enter-maintenance',
  'upgrade',
  'warmup',
  'rolling',
  'awaiting-verification',
  'completing',
  'baking',
  'contract',
  'resetting',
  'completed',
  'reset',
  'failed',
  'rolled-back',
] as const;
export type Phase = (typeof phases)[number];

/** A deployment in one of these phases moves no more traffic ('failed' may still be Reset). */
/** rolled-back: a bake after Complete sent the traffic back to the previous version by itself. */
export const terminalPhases: readonly Phase[] = ['completed', 'reset', 'failed', 'rolled-back'];

/** True once the deployment has nothing left to do: completed, reset, or failed with Reset no longer offered. */
export function isFinished(status: Pick<DeploymentStatus, 'phase' | 'actions'>): boolean {
  if (status.phase === 'rolled-back') return true;
  return status.phase === 'completed' || status.phase === 'reset' || (status.phase === 'failed' && status.actions.length === 0);
}

/** smooth: the phases of the design brief; rolling: hosts upgraded a few at a time, no clone (phases/rolling.ts). */
export const strategies = ['smooth', 'rolling'] as const;
export type Strategy = (typeof strategies)[number];

/** One host of a rolling deployment: the version it serves, and where it is in the roll. */
export interface RollingHostStatus {
  name: string;
  /** The version its slots run and serve; null while it is out of the route with no version warmed up. */
  version: string | null;
  state: 'waiting' | 'draining' | 'upgrading' | 'rolled' | 'rolling-back' | 'rolled-back' | 'out';
}

export interface RollingStatus {
  maxUnavailable: number;
  hosts: RollingHostStatus[];
}

export const siteRoles = ['zdd', 'maintenance-page'] as const;
export type SiteRole = (typeof siteRoles)[number];

export type SiteState =
  'live' | 'entering-maintenance' | 'in-maintenance' | 'upgrading' | 'preview' | 'going-live' | 'rolling-back' | 'failed';

export interface SiteStatus {
  name: string;
  role: SiteRole;
  state: SiteState;
  /** Slot serving public traffic now, or 'maintenance-page'. */
  serving: string | null;
  previewSlot: string | null;
  error?: string;
  /** Smooth strategy: every copy of the site's slots this deployment knows of, one per host and slot (replicas.ts). */
  replicas?: ReplicaStatus[];
}

/**
 * starting/started/warming/warm: running, no public traffic (warm: answered its warm-up, or left the public route);
 * serving: the public route sends it requests; failed: its step failed; lost: its host's agent did not take a step in time.
 */
export const replicaStates = ['starting', 'started', 'warming', 'warm', 'serving', 'stopped', 'failed', 'lost'] as const;
export type ReplicaState = (typeof replicaStates)[number];

/** One copy of a site's slot on one host. */
export interface ReplicaStatus {
  host: string;
  /** The host's address, where the data plane reaches the copy. */
  address: string;
  slotId: string;
  /** Where the copy listens on its host; null until it started. */
  port: number | null;
  state: ReplicaState;
}

export interface LogLine {
  at: string;
  level: 'info' | 'warn' | 'error';
  message: string;
}

export interface PhaseTiming {
  phase: Phase;
  startedAt: string;
  endedAt?: string;
}

export type Action = 'complete' | 'reset';

export interface DeploymentRequest {
  deploymentId: string;
  environment: string;
  package: PackageRef;
  mode: Mode;
  requestedBy?: string;
  /** The authenticated identity that started it (a token name): who may not approve it when self-approval is off. */
  startedBy?: string;
  /** Deploy even though the package lacks migrations the database already applied (an older package on purpose). */
  allowMissingMigrations?: boolean;
  /** Replaces the environment's analysis for this deployment; false turns it off. */
  analysis?: AnalysisSpec | false;
  /** Replaces the environment's bake after Complete for this deployment; false turns it off. */
  bake?: BakeSpec | false;
  /** expand-contract only: a share of public traffic on the new version, raised in steps, before anyone decides. */
  canary?: CanarySpec;
  /** Absent in requests older than the rolling strategy: smooth. */
  strategy?: Strategy;
  /** Rolling: how many hosts may be out of the route at once (1 when absent). */
  maxUnavailable?: number;
}

export interface ResetRequest {
  rollbackDatabase: boolean;
  requestedBy?: string;
  reason?: string;
}

export interface Decision {
  action: Action;
  rollbackDatabase: boolean;
  requestedBy?: string;
  reason?: string;
  /** When it was accepted (workflow time); absent in histories older than the approval policy. */
  at?: string;
}

/** One approver's Complete, recorded while more approvals are required. */
export interface Approval {
  by: string;
  at: string;
}

/** Complete moves traffic once `required` distinct approvers said so. */
export interface Approvals {
  required: number;
  received: Approval[];
}

export interface DeploymentStatus {
  deploymentId: string;
  environment: string;
  mode: Mode;
  package: PackageRef;
  previousPackage: { sha256: string; version: string } | null;
  phase: Phase;
  sites: SiteStatus[];
  actions: Action[];
  decision: Decision | null;
  failure: ClassifiedFailure | null;
  timings: PhaseTiming[];
  warnings: string[];
  startedAt: string;
  endedAt: string | null;
  /** Who started it (DeploymentRequest.startedBy, else requestedBy). */
  startedBy?: string | null;
  approvals?: Approvals;
  /** The analysis during verification and its evidence; null when none ran. */
  analysis?: AnalysisStatus | null;
  /** The bake after Complete and its evidence; null when none ran. */
  bake?: BakeStatus | null;
  /** The canary steps before the decision and their evidence; absent when none ran. */
  canary?: CanaryStatus;
  /** readwrite-replay: the clone's writes replayed onto the originals so far; null in other modes. */
  replay?: ReplayStatus | null;
  /** Rolling strategy: which hosts run which version; absent for smooth deployments. */
  rolling?: RollingStatus;
}

/** One captured change that did not fit the migrated original (kept there, whole, in cutover_replay.conflicts). */
export interface ReplayConflictView {
  database: string;
  table: string;
  key: Record<string, unknown> | null;
  op: string;
  reason: string;
}

/** readwrite-replay: what the replays onto the originals did, summed over every database since capture started. */
export interface ReplayStatus {
  /** Changes the clone accepted that are now on the originals. */
  applied: number;
  /** Changes that did not fit, each stored in the original; never stops the deployment. */
  conflictCount: number;
  /** The first conflicts (at most 20), for the operator to decide with the facts. */
  conflicts: ReplayConflictView[];
  /** When the last replay ended (workflow time); null before the first. */
  lastReplayAt: string | null;
  /** True once the final replay ran: the copies take no more writes. */
  final: boolean;
}

export interface DeploymentLog {
  lines: LogLine[];
}

/** Refusal types, so callers can map them (HTTP 409, Slack ephemeral message). */
export const refusals = {
  wrongState: 'action-not-available',
  environmentBusy: 'environment-busy',
  alreadyApproved: 'already-approved',
} as const;

export const statusQuery = defineQuery<DeploymentStatus>('status');
/** Arguments may be missing when sent by `temporal workflow ...` without --input: handlers cope with undefined. */
export interface CompleteRequest {
  requestedBy?: string;
  /** The authenticated identity approving (token name, Slack user id): counted once towards `approvalsRequired`. */
  approver?: string;
  /** The environment's approval.required when the Complete was sent; 1 when absent. */
  approvalsRequired?: number;
}
export const logQuery = defineQuery<DeploymentLog, [{ after?: number }]>('log');

export const completeUpdate = defineUpdate<DeploymentStatus, [CompleteRequest]>('complete');
export const resetUpdate = defineUpdate<DeploymentStatus, [ResetRequest]>('reset');
/** Same actions as signals, for `temporal workflow signal` and fire-and-forget callers. */
export const completeSignal = defineSignal<[CompleteRequest]>('complete');
export const resetSignal = defineSignal<[ResetRequest]>('reset');

// The environment workflow serialises deployments: at most one runs per environment (promise 4).
export interface EnvironmentState {
  environment: string;
  running: { deploymentId: string; workflowId: string } | null;
  last: { deploymentId: string; outcome: 'completed' | 'reset' | 'failed' | 'terminated' } | null;
}
export const requestDeploymentUpdate = defineUpdate<{ deploymentId: string; workflowId: string }, [DeploymentRequest]>('requestDeployment');
export const environmentStateQuery = defineQuery<EnvironmentState>('environmentState');

/** A failed deployment tells its environment, so a new deployment may take over from it. */
export const deploymentFailedSignal = defineSignal<[{ deploymentId: string }]>('deploymentFailed');
/**
 * A deployment tells its environment it has completed or reset before anyone can see it so,
 * so a pipeline that deploys again right away is accepted.
 */
export const deploymentSettledSignal = defineSignal<[{ deploymentId: string; outcome: 'completed' | 'reset' }]>('deploymentSettled');
/** The environment tells a failed deployment that a new one takes over. */
export const supersedeSignal = defineSignal('supersede');

export const environmentWorkflowId = (environment: string) => `environment-${environment}`;
export const deploymentWorkflowId = (deploymentId: string) => deploymentId;
