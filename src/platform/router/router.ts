import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { durationMs } from '../../config/duration.js';
import type { CutoverConfig, EnvironmentConfig } from '../../config/schema.js';
import { adminHostNames, adminTokenFrom } from './admin-access.js';
import { createAdminApp } from './admin.js';
import { InFlightRequests } from './in-flight.js';
import { listen, stopAccepting, urlFor } from './listeners.js';
import { createSiteProxy, createUpstreamAgent, type ListenerLimits } from './proxy.js';
import { RouteStore } from './route-store.js';
import { Switchboard } from './switchboard.js';

export interface StartRouterOptions {
  config: CutoverConfig;
  environment: string;
  /** Defaults to JSON lines on stdout. */
  logger?: Logger;
  /** How long close() lets in-flight requests finish before cutting them. */
  shutdownTimeoutMs?: number;
  /** Where the admin secret is read from (the variable `router.adminTokenEnv` names); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export interface RunningRouter {
  environment: string;
  adminUrl: string;
  sites: Record<string, { publicUrl: string; previewUrl: string }>;
  switchboard: Switchboard;
  /** Stop accepting, let in-flight requests finish (up to shutdownTimeoutMs), then cut what is left. */
  close(): Promise<void>;
}

/** Starts the router of one environment: a public and a preview listener per site, and the admin API. */
export async function startRouter(options: StartRouterOptions): Promise<RunningRouter> {
  const { config, environment, logger: given, shutdownTimeoutMs = 10_000 } = options;
  const env = Object.hasOwn(config.environments, environment) ? config.environments[environment] : undefined;
  if (!env) throw new Error(`unknown environment "${environment}"; the config declares: ${Object.keys(config.environments).join(', ') || 'none'}`);
  const token = adminTokenFrom(options.env ?? process.env, env.router.adminTokenEnv);
  const logger = (given ?? pino({ base: { component: 'router' } })).child({ environment });
  const { listenHost: host, adminHost, adminPort } = env.router;
  const limits = listenerLimits(env);

  const store = new RouteStore(config.stateDir, environment);
  const { table, droppedSites } = await store.load(env.sites.map((s) => s.name));
  if (droppedSites.length > 0) logger.warn({ droppedSites, file: store.file }, 'routes of sites no longer in the config are dropped');
  const switchboard = new Switchboard(table, store, new InFlightRequests());
  const agent = createUpstreamAgent();

  const started: Server[] = [];
  const stop = async () => {
    await Promise.all(started.map(stopAccepting));
    agent.destroy();
  };
  const sites: RunningRouter['sites'] = {};
  try {
    for (const site of env.sites) {
      for (const [channel, port] of [['live', site.publicPort], ['preview', site.previewPort]] as const) {
        const { trustForwardedHeaders } = env.router;
        const server = createSiteProxy({ switchboard, site: site.name, channel, agent, logger, limits, trustForwardedHeaders });
        await listen(server, port, host, `the ${channel === 'live' ? 'public' : 'preview'} listener of site ${site.name}`);
        started.push(server);
      }
      sites[site.name] = { publicUrl: urlFor(host, site.publicPort), previewUrl: urlFor(host, site.previewPort) };
    }
    const slotHosts = new Set(env.router.slotHosts.map((h) => h.toLowerCase()));
    const access = { token, hosts: adminHostNames(adminHost, adminPort), slotHosts };
    const { headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout } = limits;
    const admin = createAdaptorServer({
      fetch: createAdminApp(switchboard, logger, access).fetch,
      serverOptions: { headersTimeout, requestTimeout, connectionsCheckingInterval: 1000 },
    }) as Server;
    await listen(admin, adminPort, adminHost, 'the router admin API');
    started.push(admin);
  } catch (error) {
    await stop();
    throw error;
  }
  const adminUrl = urlFor(adminHost, adminPort);
  logger.info({ adminUrl, sites, routesFile: store.file, routes: table.sites }, `router of ${environment} listening; admin API on ${adminUrl}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info({ inFlight: switchboard.inFlight.total }, 'router stopping: no new connections, finishing requests in flight');
      const stopped = stop();
      const finished = await switchboard.inFlight.idle(shutdownTimeoutMs);
      if (!finished) logger.warn({ inFlight: switchboard.inFlight.total, shutdownTimeoutMs }, 'cutting requests still in flight');
      for (const server of started) server.closeAllConnections();
      await stopped;
      logger.info('router stopped');
    })());

  return { environment, adminUrl, sites, switchboard, close };
}

function listenerLimits(env: EnvironmentConfig): ListenerLimits {
  const { headersTimeout, requestTimeout, keepAliveTimeout, maxConnections, slotTimeout } = env.router.limits;
  return {
    headersTimeoutMs: durationMs(headersTimeout),
    requestTimeoutMs: durationMs(requestTimeout),
    keepAliveTimeoutMs: durationMs(keepAliveTimeout),
    maxConnections,
    slotTimeoutMs: durationMs(slotTimeout),
  };
}
