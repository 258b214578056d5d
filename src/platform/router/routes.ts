import { z } from 'zod';
import { formatPath, port, typeOfInput } from '../../config/fields.js';
import {
  canaryAllowListSchema,
  canaryPercentSchema,
  checkDistinctReplicas,
  jsonObject,
  maintenanceMessageSchema,
  maxReplicas,
  replicaAddress,
  servedPackageSchema,
  slotIdSchema,
  slotKind,
  targetKindError,
  weightSchema,
} from '../data-plane/target-fields.js';
import { defaultHoldTimeoutMs, maxHoldTimeoutMs } from './hold.js';

/** Where the router sends a site's traffic: a running slot, or the maintenance page. */

// A hostname or IP address, never a URL: the router only speaks plain HTTP to slots.
const host = z
  .string({ error: (i) => `must be a hostname or IP address, got ${typeOfInput(i.input)}` })
  .regex(/^[A-Za-z0-9.:\-[\]]{1,253}$/, 'must be a hostname or IP address');

/** One running copy of a slot; `weight` is its share of new requests (1 unless changed, 0 = none). */
export const replicaSchema = z.strictObject({ host: host.default('127.0.0.1'), port, weight: weightSchema.optional() }, jsonObject);

/** New shares of the live target's requests, per replica (those not named keep theirs). */
export const replicaWeightsSchema = z
  .array(z.strictObject({ host: host.default('127.0.0.1'), port, weight: weightSchema }, jsonObject), {
    error: (i) => `must be a list of { host, port, weight }, got ${typeOfInput(i.input)}`,
  })
  .min(1, 'must list at least one replica');

/**
 * A running slot: one copy (`host`, `port`), or several (`replicas`) that share its requests in turn. A switch moves
 * all of them at once.
 */
export const slotRouteSchema = z
  .strictObject(
    {
      kind: slotKind,
      slotId: slotIdSchema,
      port: port.optional(),
      host: host.optional(),
      replicas: z
        .array(replicaSchema, { error: (i) => `must be a list of { host, port, weight? }, got ${typeOfInput(i.input)}` })
        .min(1, 'must list at least one replica')
        .max(maxReplicas, `must list at most ${maxReplicas} replicas`)
        .optional(),
      package: servedPackageSchema.optional(),
    },
    jsonObject,
  )
  .superRefine((route, ctx) => {
    if (route.replicas === undefined && route.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'is required (or replicas)' });
    }
    if (route.replicas !== undefined && (route.port !== undefined || route.host !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'must not come with port or host: list every copy in replicas' });
    }
    if (route.replicas) checkDistinctReplicas(route.replicas, ctx);
    if (route.replicas?.length && route.replicas.every((replica) => replica.weight === 0)) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'at least one replica must keep a weight above 0' });
    }
  })
  // One copy keeps the shape callers have always used: { host, port }, host defaulting to loopback.
  .transform((route) => (route.replicas ? route : { ...route, host: route.host ?? '127.0.0.1' }));

export const maintenanceRouteSchema = z.strictObject(
  {
    kind: z.literal('maintenance'),
    message: maintenanceMessageSchema.optional(),
    package: servedPackageSchema.optional(),
  },
  jsonObject,
);

export const routeSchema = z.discriminatedUnion('kind', [slotRouteSchema, maintenanceRouteSchema], targetKindError);

/**
 * A second slot beside the live one that takes `percent` of new clients (sticky per client by a cookie) and every
 * request `allow` names; percent 0 sends everyone to the live target.
 */
export const canarySchema = z.strictObject(
  {
    target: slotRouteSchema,
    percent: canaryPercentSchema,
    allow: canaryAllowListSchema.optional(),
  },
  jsonObject,
);

/** A hold of a site's public traffic: how long (ms) a held request waits for the next live switch before the maintenance page. */
export const holdSchema = z.strictObject(
  {
    timeoutMs: z
      .number({ error: (i) => `must be a whole number of milliseconds, got ${typeOfInput(i.input)}` })
      .int('must be a whole number of milliseconds')
      .min(1, 'must be at least 1')
      .max(maxHoldTimeoutMs, `must be at most ${maxHoldTimeoutMs} (a hold stops writes: keep it short)`)
      .default(defaultHoldTimeoutMs),
  },
  jsonObject,
);

export const siteRoutesSchema = z.strictObject({
  live: routeSchema.nullable(),
  preview: slotRouteSchema.nullable(),
  canary: canarySchema.optional(),
});

/** What the route store keeps on disk for one environment. */
export const routeTableSchema = z.strictObject({
  environment: z.string(),
  sites: z.record(z.string(), siteRoutesSchema),
});

export type Replica = z.output<typeof replicaSchema>;
export type ReplicaWeight = z.output<typeof replicaWeightsSchema>[number];
/** What a slot route is once read: one copy (`host`, `port`) or several (`replicas`). */
export type SlotRoute = z.output<typeof slotRouteSchema>;
export type MaintenanceRoute = z.output<typeof maintenanceRouteSchema>;
export type Route = z.output<typeof routeSchema>;
/** What callers send: `host` may be left out. */
export type RouteInput = z.input<typeof routeSchema>;
export type SlotRouteInput = z.input<typeof slotRouteSchema>;
export type MaintenanceRouteInput = z.input<typeof maintenanceRouteSchema>;
export type SiteRoutes = z.output<typeof siteRoutesSchema>;
export type Canary = z.output<typeof canarySchema>;
export type CanaryInput = z.input<typeof canarySchema>;
export type RouteTable = z.output<typeof routeTableSchema>;
export type HoldInput = z.input<typeof holdSchema>;

/** The copies of a slot the route sends requests to, in order. */
export function replicasOf(route: SlotRoute): Replica[] {
  return route.replicas ?? [{ host: route.host ?? '127.0.0.1', port: route.port! }];
}

/** Identity of a target; the slot id is part of it so a reused port is a new target; the order and weights of replicas are not. */
export function targetKey(route: SlotRoute): string {
  return `${route.slotId}@${replicasOf(route).map(replicaAddress).sort().join(',')}`;
}

export function sameRoute(a: Route | null, b: Route | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.kind === 'slot' && b.kind === 'slot') return targetKey(a) === targetKey(b);
  if (a.kind === 'maintenance' && b.kind === 'maintenance') return (a.message ?? '') === (b.message ?? '');
  return false;
}

/** "port: must be a port number, got string \"80\"": the first problem, naming the field. */
export function describeIssues(error: z.ZodError, root = 'body'): string {
  return error.issues.map((issue) => `${formatPath(issue.path) || root}: ${issue.message}`).join('; ');
}
