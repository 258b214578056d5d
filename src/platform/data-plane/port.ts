import { isIP } from 'node:net';
import { z } from 'zod';
import { port, typeOfInput } from '../../config/fields.js';
import {
  canaryAllowListSchema,
  canaryPercentSchema,
  checkDistinctReplicas,
  replicaAddress,
  jsonObject,
  maintenanceMessageSchema,
  maxReplicas,
  servedPackageSchema,
  slotIdSchema,
  slotKind,
  targetKindError,
  weightSchema,
  type Channel,
} from './target-fields.js';

/**
 * The data plane of one environment, as Cutover's control plane sees it: whatever proxy sits in front of the
 * sites (the built-in router, HAProxy, nginx), each site has a public listener serving its `live` target and a
 * preview listener serving its `preview` target.
 */

/** One running copy of a slot, on one host. An IP address: a switch must not wait on name resolution. */
export const replicaSchema = z.strictObject(
  {
    host: z
      .string({ error: (i) => (i.input === undefined ? 'is required' : `must be an IP address, got ${typeOfInput(i.input)}`) })
      .refine((host) => isIP(host) !== 0, 'must be an IP address (the data plane does not resolve names)'),
    port,
  },
  jsonObject,
);

export const slotTargetSchema = z
  .strictObject(
    {
      kind: slotKind,
      slotId: slotIdSchema,
      /** Every replica receives traffic from the same instant: a switch moves them all at once. */
      replicas: z
        .array(replicaSchema, {
          error: (i) => (i.input === undefined ? 'is required' : `must be a list of replicas, got ${typeOfInput(i.input)}`),
        })
        .min(1, 'must list at least one replica')
        .max(maxReplicas, `must list at most ${maxReplicas} replicas`),
      package: servedPackageSchema.optional(),
    },
    jsonObject,
  )
  .superRefine((target, ctx) => checkDistinctReplicas(target.replicas, ctx));

export const maintenanceTargetSchema = z.strictObject(
  {
    kind: z.literal('maintenance'),
    message: maintenanceMessageSchema.regex(/^[^\r\n]*$/, 'must be one line').optional(),
    package: servedPackageSchema.optional(),
  },
  jsonObject,
);

export const liveTargetSchema = z.discriminatedUnion('kind', [slotTargetSchema, maintenanceTargetSchema], targetKindError);

export const replicaWeightsSchema = z
  .array(z.strictObject({ host: replicaSchema.shape.host, port, weight: weightSchema }, jsonObject), {
    error: (i) => `must be a list of { host, port, weight }, got ${typeOfInput(i.input)}`,
  })
  .min(1, 'must list at least one replica');

/** A second slot beside the live target: `percent` of new clients (sticky per client) and the requests `allow` names. */
export const canarySchema = z.strictObject(
  { target: slotTargetSchema, percent: canaryPercentSchema, allow: canaryAllowListSchema.optional() },
  jsonObject,
);

export type Replica = z.output<typeof replicaSchema>;
export type SlotTarget = z.output<typeof slotTargetSchema>;
/** The maintenance page: 503 with Retry-After, and the message if one is given. */
export type MaintenanceTarget = z.output<typeof maintenanceTargetSchema>;
export type LiveTarget = z.output<typeof liveTargetSchema>;
export type ReplicaWeight = z.output<typeof replicaWeightsSchema>[number];
export type Canary = z.output<typeof canarySchema>;

/** A canary set, changed or removed; a canary slot it left drained as after a live switch. */
export interface CanarySwitch {
  previous: Canary | null;
  drained: boolean;
  drainMs: number;
  inFlightAtSwitch?: number;
}

export interface SiteTargets {
  live: LiveTarget | null;
  preview: SlotTarget | null;
}

export interface LiveSwitch {
  previous: LiveTarget | null;
  /** Every request in flight to the previous target at the switch finished before drainTimeoutMs. */
  drained: boolean;
  /** From the call to the moment every new request goes to the new target. */
  applyMs: number;
  /** From then until the previous target drained (or the timeout). */
  drainMs: number;
  /** Requests in flight to the previous target at the switch, when the data plane can count them. */
  inFlightAtSwitch?: number;
}

/** Public traffic held until the next setLive; the live target (and its canary) drained as after a switch. */
export interface LiveHold {
  drained: boolean;
  drainMs: number;
  /** Requests in flight to the live target when the hold began. */
  inFlightAtHold: number;
  /** How long a held request waits for the next setLive before it gets the maintenance page (503, Retry-After). */
  timeoutMs: number;
}

export interface PreviewSwitch {
  previous: SlotTarget | null;
}

export type StatusClass = '1xx' | '2xx' | '3xx' | '4xx' | '5xx' | 'other';

export interface BackendStats {
  replica: Replica;
  /** ready: takes new requests; draining: finishes what it has; stopped: takes nothing; down: failing its health checks, passed over. */
  state: 'ready' | 'draining' | 'stopped' | 'down';
  weight: number;
  inFlight: number;
  requests: number;
  responses: Record<StatusClass, number>;
}

export interface ChannelStats {
  inFlight: number;
  /** Per backend, when the data plane counts them. */
  backends?: BackendStats[];
}

export type DataPlaneStats = Record<string, Record<Channel, ChannelStats>>;

export interface DataPlaneCapabilities {
  /** Replicas one target may list. */
  maxReplicas: number;
  /** Whether a switch restarts or reloads the proxy (and what that costs clients). */
  reloadsOnSwitch: boolean;
}

/** A site the data plane serves, with the ports of its two listeners. */
export interface DataPlaneSite {
  name: string;
  publicPort: number;
  previewPort: number;
}

export const defaultDrainTimeoutMs = 30_000;

/** What Cutover's control plane asks of a data plane; every adapter passes test/data-plane/contract.ts. */
export interface DataPlane {
  readonly adapter: 'builtin' | 'haproxy' | 'nginx';
  readonly capabilities: DataPlaneCapabilities;
  /** The targets in force, read from the data plane (they survive its restart). */
  routes(): Promise<Record<string, SiteTargets>>;
  /**
   * Moves every new request of the site's public listener to `target` (all its replicas at once, or the
   * maintenance page), then waits until the requests in flight to the previous target finished (or
   * drainTimeoutMs, default 30 s, passed: `drained: false`). Once it resolves, no request reaches the previous target.
   */
  setLive(site: string, target: LiveTarget, options?: { drainTimeoutMs?: number }): Promise<LiveSwitch>;
  /** Sets (or with null clears) what the site's preview listener serves. */
  setPreview(site: string, target: SlotTarget | null): Promise<PreviewSwitch>;
  /** Relative share of new requests per replica of the live target (0 = none), for canaries. */
  setWeights?(site: string, weights: ReplicaWeight[]): Promise<void>;
  /** Sets, changes or (null) removes the canary of the live target; a new live target ends it. */
  setCanary?(site: string, canary: Canary | null, options?: { drainTimeoutMs?: number }): Promise<CanarySwitch>;
  /**
   * Holds the site's new public requests (not answered, not refused) until the next setLive, which sends them to its
   * target; those held longer than timeoutMs (default 5 s, at most 30 s) get the maintenance page. Resolves once the
   * requests in flight to the live target finished (or drainTimeoutMs passed). Built-in router only: HAProxy and nginx
   * cannot hold requests without a reload, so a switch there is never preceded by a hold.
   */
  hold?(site: string, options?: { timeoutMs?: number; drainTimeoutMs?: number }): Promise<LiveHold>;
  /** Requests and status classes per backend, when the data plane counts them. */
  stats?(): Promise<DataPlaneStats>;
}

/** The maintenance page target, without fields left undefined (so targets compare equal). */
export function maintenanceTarget(message: string | undefined, servedPackage: SlotTarget['package']): MaintenanceTarget {
  return { kind: 'maintenance', ...(message === undefined ? {} : { message }), ...(servedPackage ? { package: servedPackage } : {}) };
}

/** Same target: same slot on the same replicas (in any order), or the maintenance page with the same message. */
export function sameTarget(a: LiveTarget | null, b: LiveTarget | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind === 'slot' && b.kind === 'slot') {
    const keys = (t: SlotTarget) => t.replicas.map(replicaAddress).sort().join(',');
    return a.slotId === b.slotId && keys(a) === keys(b);
  }
  if (a.kind === 'maintenance' && b.kind === 'maintenance') return (a.message ?? '') === (b.message ?? '');
  return false;
}
