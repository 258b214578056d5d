import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import { hostGuard, metricsGuard, tokenGuard, type AdminAccess, type EnvironmentAccess } from './admin-access.js';
import { trafficOf, type RouterMetrics, type SlotTraffic } from './metrics.js';
import {
  canarySchema,
  describeIssues,
  holdSchema,
  replicasOf,
  replicaWeightsSchema,
  routeSchema,
  slotRouteSchema,
  type Route,
  type SiteRoutes,
} from './routes.js';
import { replicaAddress } from '../data-plane/target-fields.js';
import { CanaryError, UnknownSiteError, WeightsError, type Switchboard } from './switchboard.js';

export const defaultDrainTimeoutMs = 30_000;

export interface SiteRoutesView extends SiteRoutes {
  inFlight: { live: number; preview: number };
  /** While public traffic is held: the requests waiting for the next switch, and how long each may wait. */
  held?: { requests: number; timeoutMs: number };
}

export interface RoutesView {
  environment: string;
  sites: Record<string, SiteRoutesView>;
}

const weightsBodySchema = z.strictObject({ weights: replicaWeightsSchema });

const drainTimeoutSchema = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of milliseconds')
  .transform(Number)
  .pipe(z.number().max(3_600_000, 'must be at most 3600000 (one hour)'));

export interface RouterHealth {
  ok: true;
  host: string;
  /** The environments this router serves. */
  environments: string[];
}

/** GET /metrics/traffic: what each slot of an environment served since the router started, per listener. */
export interface TrafficView {
  environment: string;
  series: Array<{ site: string; channel: 'live' | 'preview'; slot: string } & SlotTraffic>;
}

const trafficQuerySchema = z.strictObject({
  environment: z.string({ error: 'is required' }).min(1, 'is required'),
  site: z.string().min(1, 'must not be empty').optional(),
});

export class UnknownEnvironmentError extends Error {
  constructor(environment: string, host: string, served: readonly string[]) {
    super(`unknown environment "${environment}": the router of host ${host} serves ${served.join(', ') || 'none'}`);
    this.name = 'UnknownEnvironmentError';
  }
}

/** The router's admin API, one per host: the worker switches each environment's traffic through it; it never proxies anything itself. */
export function createAdminApp(
  host: string,
  switchboards: ReadonlyMap<string, Switchboard>,
  logger: Logger,
  access: AdminAccess,
  metrics: RouterMetrics,
): Hono {
  const app = new Hono();
  const environment = (c: Context): { name: string; switchboard: Switchboard; access: EnvironmentAccess } => {
    const name = c.req.param('environment')!;
    const switchboard = switchboards.get(name);
    if (!switchboard) throw new UnknownEnvironmentError(name, host, [...switchboards.keys()]);
    return { name, switchboard, access: access.environments.get(name)! };
  };

  app.use(hostGuard(access.hosts));
  // Liveness only (container healthchecks have no secret): it names the host and environments, never a route.
  app.get('/healthz', (c) => c.json({ ok: true, host, environments: [...switchboards.keys()] } satisfies RouterHealth));
  // Read-only counts, for Prometheus and the analysis of a deployment: their own access rule (metricsGuard, docs/metrics.md).
  app.get('/metrics', metricsGuard(access), async (c) => c.body(await metrics.exposition(), 200, { 'content-type': metrics.contentType }));
  app.get('/metrics/traffic', metricsGuard(access), (c) => {
    const query = trafficQuerySchema.safeParse(c.req.query());
    if (!query.success) return refuse(c, describeIssues(query.error, 'query'));
    const { environment: name, site } = query.data;
    const switchboard = switchboards.get(name);
    if (!switchboard) throw new UnknownEnvironmentError(name, host, [...switchboards.keys()]);
    if (site !== undefined) switchboard.routes(site);
    const series = metrics
      .seriesOf(name, site)
      .map((s) => ({ site: s.labels.site, channel: s.labels.channel, slot: s.labels.slot, ...trafficOf([s]) }));
    return c.json({ environment: name, series } satisfies TrafficView);
  });
  app.use(tokenGuard(access.environments));

  app.get('/v1/environments/:environment/routes', (c) => c.json(routesView(environment(c).switchboard)));

  app.put('/v1/environments/:environment/sites/:site/live', async (c) => {
    const { name, switchboard, access: allowed } = environment(c);
    const site = c.req.param('site');
    switchboard.routes(site);
    const drain = drainTimeoutSchema.safeParse(c.req.query('drainTimeoutMs') ?? String(defaultDrainTimeoutMs));
    if (!drain.success) return refuse(c, describeIssues(drain.error, 'drainTimeoutMs'));
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const route = routeSchema.safeParse(body.value);
    if (!route.success) return refuse(c, describeIssues(route.error));
    const offHost = outsideSlotHosts(route.data, allowed);
    if (offHost) return refuse(c, offHost);
    const result = await switchboard.setLive(site, route.data, drain.data);
    const { previous, ...drainage } = result;
    const change = { environment: name, site, from: describe(previous), to: describe(route.data), ...drainage };
    logger.info(change, `live traffic of ${site} now goes to ${describe(route.data)}`);
    return c.json(result);
  });

  app.put('/v1/environments/:environment/sites/:site/hold', async (c) => {
    const { name, switchboard } = environment(c);
    const site = c.req.param('site');
    switchboard.routes(site);
    const drain = drainTimeoutSchema.safeParse(c.req.query('drainTimeoutMs') ?? String(defaultDrainTimeoutMs));
    if (!drain.success) return refuse(c, describeIssues(drain.error, 'drainTimeoutMs'));
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const hold = holdSchema.safeParse(body.value);
    if (!hold.success) return refuse(c, describeIssues(hold.error));
    const result = await switchboard.hold(site, hold.data.timeoutMs, drain.data);
    logger.info({ environment: name, site, ...result }, `public traffic of ${site} held until the next switch`);
    return c.json(result);
  });

  app.put('/v1/environments/:environment/sites/:site/preview', async (c) => {
    const { name, switchboard, access: allowed } = environment(c);
    const site = c.req.param('site');
    switchboard.routes(site);
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const route = body.value === null ? ({ success: true, data: null } as const) : slotRouteSchema.safeParse(body.value);
    if (!route.success) return refuse(c, describeIssues(route.error));
    const offHost = outsideSlotHosts(route.data, allowed);
    if (offHost) return refuse(c, offHost);
    const result = await switchboard.setPreview(site, route.data);
    const change = { environment: name, site, from: describe(result.previous), to: describe(route.data) };
    logger.info(change, `preview of ${site} now goes to ${describe(route.data)}`);
    return c.json(result);
  });

  app.put('/v1/environments/:environment/sites/:site/canary', async (c) => {
    const { name, switchboard, access: allowed } = environment(c);
    const site = c.req.param('site');
    switchboard.routes(site);
    const drain = drainTimeoutSchema.safeParse(c.req.query('drainTimeoutMs') ?? String(defaultDrainTimeoutMs));
    if (!drain.success) return refuse(c, describeIssues(drain.error, 'drainTimeoutMs'));
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const canary = body.value === null ? ({ success: true, data: null } as const) : canarySchema.safeParse(body.value);
    if (!canary.success) return refuse(c, describeIssues(canary.error));
    const offHost = outsideSlotHosts(canary.data?.target ?? null, allowed);
    if (offHost) return refuse(c, `target.${offHost}`);
    const result = await switchboard.setCanary(site, canary.data, drain.data);
    const to = canary.data ? `${canary.data.percent}% to ${describe(canary.data.target)}` : 'nothing';
    logger.info({ environment: name, site, canary: canary.data, drained: result.drained }, `canary of ${site} now sends ${to}`);
    return c.json(result);
  });

  app.put('/v1/environments/:environment/sites/:site/weights', async (c) => {
    const { name, switchboard } = environment(c);
    const site = c.req.param('site');
    switchboard.routes(site);
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const parsed = weightsBodySchema.safeParse({ weights: body.value });
    if (!parsed.success) return refuse(c, describeIssues(parsed.error));
    await switchboard.setWeights(site, parsed.data.weights);
    const shares = parsed.data.weights.map((w) => `${replicaAddress(w)}=${w.weight}`).join(', ');
    logger.info({ environment: name, site, weights: parsed.data.weights }, `live replicas of ${site} weighted ${shares}`);
    return c.json({ ok: true });
  });

  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.onError((error, c) => {
    if (error instanceof UnknownSiteError || error instanceof UnknownEnvironmentError) return c.json({ error: error.message }, 404);
    if (error instanceof WeightsError || error instanceof CanaryError) return c.json({ error: error.message }, 400);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'admin request failed');
    return c.json({ error: `router failed: ${error.message}` }, 500);
  });

  return app;
}

export function routesView(switchboard: Switchboard): RoutesView {
  const sites: Record<string, SiteRoutesView> = {};
  for (const site of switchboard.sites) {
    const { live, preview, canary } = switchboard.routes(site);
    const inFlight = (channel: 'live' | 'preview') => switchboard.listener(site, channel).inFlight.value;
    const hold = switchboard.listener(site, 'live').hold;
    sites[site] = {
      live,
      preview,
      ...(canary && { canary }),
      inFlight: { live: inFlight('live'), preview: inFlight('preview') },
      ...(hold && { held: { requests: hold.count, timeoutMs: hold.timeoutMs } }),
    };
  }
  return { environment: switchboard.environment, sites };
}

/** A slot route may only point where this environment's slots run, never to another machine. */
function outsideSlotHosts(route: Route | null, access: EnvironmentAccess): string | undefined {
  if (route?.kind !== 'slot') return undefined;
  const replicas = replicasOf(route);
  const index = replicas.findIndex((replica) => !access.slotHosts.has(replica.host.toLowerCase()));
  if (index < 0) return undefined;
  const field = route.replicas ? `replicas[${index}].host` : 'host';
  const allowed = [...access.slotHosts].join(', ');
  return `${field}: must be one of this environment's slot hosts (${allowed}), got ${JSON.stringify(replicas[index]!.host)}`;
}

function refuse(c: Context, error: string) {
  return c.json({ error }, 400);
}

async function readJson(c: Context): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const text = await c.req.text();
  if (text.trim() === '') return { ok: false, error: 'body: is required (a JSON route)' };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (error) {
    return { ok: false, error: `body: must be JSON (${(error as Error).message})` };
  }
}

function describe(route: Route | null): string {
  if (route === null) return 'nothing';
  if (route.kind === 'maintenance') return 'the maintenance page';
  return `slot ${route.slotId} at ${replicasOf(route).map(replicaAddress).join(', ')}`;
}
