import { z } from 'zod';
import { formatPath, typeOfInput } from '../../config/fields.js';

/** Where the router sends a site's traffic: a running slot, or the maintenance page. */

const port = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : `must be a port number, got ${typeOfInput(i.input)}`) })
  .int('must be a whole number')
  .min(1, 'must be between 1 and 65535')
  .max(65535, 'must be between 1 and 65535');

const unknownFields = {
  error: (i: { code?: string; keys?: string[]; input?: unknown }) =>
    i.code === 'unrecognized_keys' ? `unknown field(s) ${(i.keys ?? []).join(', ')}` : `must be a JSON object, got ${typeOfInput(i.input)}`,
};

/** Which package a route serves, so the real state says which version is live even behind a maintenance page. */
export const servedPackageSchema = z.strictObject(
  {
    sha256: z.string().regex(/^[0-9a-f]{64}$/, 'must be a sha256 in hex'),
    version: z.string().min(1, 'must not be empty').max(64, 'must be at most 64 characters'),
  },
  unknownFields,
);

// A hostname or IP address, never a URL: the router only speaks plain HTTP to slots.
const host = z
  .string({ error: (i) => `must be a hostname or IP address, got ${typeOfInput(i.input)}` })
  .regex(/^[A-Za-z0-9.:\-[\]]{1,253}$/, 'must be a hostname or IP address');

const weight = z
  .number({ error: (i) => (i.input === undefined ? 'is required' : `must be a number, got ${typeOfInput(i.input)}`) })
  .int('must be a whole number')
  .min(0, 'must be between 0 and 256')
  .max(256, 'must be between 0 and 256');

/** One running copy of a slot; `weight` is its share of new requests (1 unless changed, 0 = none). */
export const replicaSchema = z.strictObject({ host: host.default('127.0.0.1'), port, weight: weight.optional() }, unknownFields);

/** New shares of the live target's requests, per replica (those not named keep theirs). */
export const replicaWeightsSchema = z
  .array(z.strictObject({ host: host.default('127.0.0.1'), port, weight }, unknownFields), {
    error: (i) => `must be a list of { host, port, weight }, got ${typeOfInput(i.input)}`,
  })
  .min(1, 'must list at least one replica');

/** At most as many replicas as the data-plane port allows one target. */
export const maxReplicas = 64;

/**
 * A running slot: one copy (`host`, `port`), or several (`replicas`) that share its requests in turn. A switch moves
 * all of them at once.
 */
export const slotRouteSchema = z
  .strictObject(
    {
      kind: z.literal('slot', { error: (i) => `must be "slot", got ${typeOfInput(i.input)}` }),
      slotId: z
        .string({ error: (i) => (i.input === undefined ? 'is required' : `must be a string, got ${typeOfInput(i.input)}`) })
        .min(1, 'must not be empty')
        .max(200, 'must be at most 200 characters')
        .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
      port: port.optional(),
      host: host.optional(),
      replicas: z
        .array(replicaSchema, { error: (i) => `must be a list of { host, port, weight? }, got ${typeOfInput(i.input)}` })
        .min(1, 'must list at least one replica')
        .max(maxReplicas, `must list at most ${maxReplicas} replicas`)
        .optional(),
      package: servedPackageSchema.optional(),
    },
    unknownFields,
  )
  .superRefine((route, ctx) => {
    if (route.replicas === undefined && route.port === undefined) {
      ctx.addIssue({ code: 'custom', path: ['port'], message: 'is required (or replicas)' });
    }
    if (route.replicas !== undefined && (route.port !== undefined || route.host !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'must not come with port or host: list every copy in replicas' });
    }
    const seen = new Set<string>();
    route.replicas?.forEach((replica, index) => {
      const key = replicaAddress(replica);
      if (seen.has(key)) ctx.addIssue({ code: 'custom', path: ['replicas', index], message: `duplicate replica ${key}` });
      seen.add(key);
    });
    if (route.replicas?.length && route.replicas.every((replica) => replica.weight === 0)) {
      ctx.addIssue({ code: 'custom', path: ['replicas'], message: 'at least one replica must keep a weight above 0' });
    }
  })
  // One copy keeps the shape callers have always used: { host, port }, host defaulting to loopback.
  .transform((route) => (route.replicas ? route : { ...route, host: route.host ?? '127.0.0.1' }));

export const maintenanceRouteSchema = z.strictObject(
  {
    kind: z.literal('maintenance'),
    message: z
      .string({ error: (i) => `must be a string, got ${typeOfInput(i.input)}` })
      .max(2000, 'must be at most 2000 characters')
      .optional(),
    package: servedPackageSchema.optional(),
  },
  unknownFields,
);

export const routeSchema = z.discriminatedUnion('kind', [slotRouteSchema, maintenanceRouteSchema], {
  error: (i) => {
    if (i.code !== 'invalid_union') return `must be a JSON object, got ${typeOfInput(i.input)}`;
    const kind = (i.input as { kind?: unknown } | undefined)?.kind;
    return kind === undefined ? 'is required ("slot" or "maintenance")' : `must be "slot" or "maintenance", got ${typeOfInput(kind)}`;
  },
});

export const siteRoutesSchema = z.strictObject({
  live: routeSchema.nullable(),
  preview: slotRouteSchema.nullable(),
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
export type SiteRoutes = z.output<typeof siteRoutesSchema>;
export type RouteTable = z.output<typeof routeTableSchema>;
/** public listener → live route, preview listener → preview route. */
export type Channel = 'live' | 'preview';

/** The copies of a slot the route sends requests to, in order. */
export function replicasOf(route: SlotRoute): Replica[] {
  return route.replicas ?? [{ host: route.host ?? '127.0.0.1', port: route.port! }];
}

/** "127.0.0.1:8080", "[::1]:8080". */
export function replicaAddress(replica: Pick<Replica, 'host' | 'port'>): string {
  const { host, port } = replica;
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
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
