import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { z } from 'zod';
import { hostGuard, tokenGuard, type AdminAccess } from './admin-access.js';
import { describeIssues, routeSchema, slotRouteSchema, type Route, type SiteRoutes } from './routes.js';
import { UnknownSiteError, type Switchboard } from './switchboard.js';

export const defaultDrainTimeoutMs = 30_000;

export interface SiteRoutesView extends SiteRoutes {
  inFlight: { live: number; preview: number };
}

export interface RoutesView {
  environment: string;
  sites: Record<string, SiteRoutesView>;
}

const drainTimeoutSchema = z
  .string()
  .regex(/^\d+$/, 'must be a whole number of milliseconds')
  .transform(Number)
  .pipe(z.number().max(3_600_000, 'must be at most 3600000 (one hour)'));

/** The router's admin API: the worker switches traffic through it; it never proxies anything itself. */
export function createAdminApp(switchboard: Switchboard, logger: Logger, access: AdminAccess): Hono {
  const app = new Hono();

  app.use(hostGuard(access.hosts));
  // Liveness only (container healthchecks have no secret): it names the environment, never a route.
  app.get('/healthz', (c) => c.json({ ok: true, environment: switchboard.environment }));
  app.use(tokenGuard(access.token));

  app.get('/v1/routes', (c) => c.json(routesView(switchboard)));

  app.put('/v1/sites/:site/live', async (c) => {
    const site = c.req.param('site');
    switchboard.routes(site);
    const drain = drainTimeoutSchema.safeParse(c.req.query('drainTimeoutMs') ?? String(defaultDrainTimeoutMs));
    if (!drain.success) return refuse(c, describeIssues(drain.error, 'drainTimeoutMs'));
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const route = routeSchema.safeParse(body.value);
    if (!route.success) return refuse(c, describeIssues(route.error));
    const offHost = outsideSlotHosts(route.data, access);
    if (offHost) return refuse(c, offHost);
    const result = await switchboard.setLive(site, route.data, drain.data);
    logger.info({ site, from: describe(result.previous), to: describe(route.data), drained: result.drained, inFlightAtSwitch: result.inFlightAtSwitch, drainMs: result.drainMs }, `live traffic of ${site} now goes to ${describe(route.data)}`);
    return c.json(result);
  });

  app.put('/v1/sites/:site/preview', async (c) => {
    const site = c.req.param('site');
    switchboard.routes(site);
    const body = await readJson(c);
    if (!body.ok) return refuse(c, body.error);
    const route = body.value === null ? ({ success: true, data: null } as const) : slotRouteSchema.safeParse(body.value);
    if (!route.success) return refuse(c, describeIssues(route.error));
    const offHost = outsideSlotHosts(route.data, access);
    if (offHost) return refuse(c, offHost);
    const result = await switchboard.setPreview(site, route.data);
    logger.info({ site, from: describe(result.previous), to: describe(route.data) }, `preview of ${site} now goes to ${describe(route.data)}`);
    return c.json(result);
  });

  app.notFound((c) => c.json({ error: `no such endpoint: ${c.req.method} ${c.req.path}` }, 404));

  app.onError((error, c) => {
    if (error instanceof UnknownSiteError) return c.json({ error: error.message }, 404);
    logger.error({ err: error, method: c.req.method, path: c.req.path }, 'admin request failed');
    return c.json({ error: `router failed: ${error.message}` }, 500);
  });

  return app;
}

export function routesView(switchboard: Switchboard): RoutesView {
  const sites: Record<string, SiteRoutesView> = {};
  for (const site of switchboard.sites) {
    const { live, preview } = switchboard.routes(site);
    sites[site] = { live, preview, inFlight: { live: switchboard.inFlight.count(site, 'live'), preview: switchboard.inFlight.count(site, 'preview') } };
  }
  return { environment: switchboard.environment, sites };
}

/** A slot route may only point where this environment's slots run, never to another machine. */
function outsideSlotHosts(route: Route | null, access: AdminAccess): string | undefined {
  if (route?.kind !== 'slot' || access.slotHosts.has(route.host.toLowerCase())) return undefined;
  return `host: must be one of this environment's slot hosts (${[...access.slotHosts].join(', ')}), got ${JSON.stringify(route.host)}`;
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
  return `slot ${route.slotId} at ${route.host}:${route.port}`;
}
