/**
 * What the deployment workflow and a host agent agree on. Types and pure constants only:
 * workflows import this file, so it must stay free of side effects and Node APIs.
 */
import type { DatabaseRole } from '../../engines/engine.js';

/** What to run: one site of one environment, one package, on the original or the temporary databases. */
export interface SlotSpec {
  environment: string;
  site: string;
  packageSha256: string;
  /** Which physical databases the slot uses. */
  databases: DatabaseRole;
  /** The slot's databases refuse writes (clone in readonly mode): the app learns it via CUTOVER_READONLY. */
  readOnly: boolean;
  /** A second slot of the package beside the one serving, never routed: does the old version still work on the expanded schema? */
  check?: boolean;
}

export type SlotState = 'running' | 'exited';

export interface SlotInfo {
  slotId: string;
  environment: string;
  site: string;
  packageSha256: string;
  packageVersion: string;
  databases: DatabaseRole;
  readOnly: boolean;
  /** Loopback port the slot listens on (127.0.0.1). */
  port: number;
  pid: number;
  state: SlotState;
  /** Known only when this agent process saw the slot exit; null otherwise. */
  exitCode: number | null;
  /** ISO timestamp of the process start. */
  startedAt: string;
}

export interface StopSlotInput {
  slotId: string;
  /** How long SIGTERM gets before SIGKILL. */
  graceMs?: number;
}

export interface WarmUpSlotInput {
  slotId: string;
  path: string;
  timeoutMs: number;
}

export interface WarmUpResult {
  status: number;
  attempts: number;
  elapsedMs: number;
}

/**
 * Activities every host agent serves on hostTaskQueue(host). All are idempotent.
 * Failures are non-retryable ApplicationFailures whose type is a failure class
 * (startup-error, ip-forbidden, readonly-not-supported, warmup-failed, invalid-input).
 */
export interface HostActivities {
  /** Starts the slot; the same slot already running is returned as is, an exited one is started again. */
  startSlot(spec: SlotSpec): Promise<SlotInfo>;
  /** SIGTERM to the slot's process group, SIGKILL after the grace; unknown or exited slot → stopped: false. */
  stopSlot(input: StopSlotInput): Promise<{ stopped: boolean }>;
  /** Polls the slot's warmup path until HTTP 200; classifies the failure otherwise. */
  warmUpSlot(input: WarmUpSlotInput): Promise<WarmUpResult>;
  listSlots(input: { environment: string }): Promise<SlotInfo[]>;
}

export const HOST_TASK_QUEUE_PREFIX = 'cutover-host-';

/** Longer than a typical app's own drain of in-flight requests (the demo app allows itself 10 s). */
export const DEFAULT_STOP_GRACE_MS = 15_000;

/** Deterministic, so a retried start finds the slot the first attempt started. */
export function slotIdFor(spec: Pick<SlotSpec, 'environment' | 'site' | 'packageSha256' | 'databases' | 'check'>): string {
  return `${spec.environment}.${spec.site}.${spec.packageSha256.slice(0, 12)}.${spec.databases}${spec.check ? '.check' : ''}`;
}

/** The environment a slot belongs to: the first part of its id. */
export function environmentOfSlot(slotId: string): string {
  return slotId.split('.')[0] ?? '';
}

export function hostTaskQueue(host: string): string {
  return HOST_TASK_QUEUE_PREFIX + host;
}
