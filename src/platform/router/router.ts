import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { pino, type Logger } from 'pino';
import { durationMs } from '../../config/duration.js';
import type { CutoverConfig, EnvironmentConfig } from '../../config/schema.js';
import { adminHostNames, adminTokenFrom, isLoopbackAddress, metricsTokenFrom, type EnvironmentAccess } from './admin-access.js';
import { createAdminApp } from './admin.js';
import { InFlightCount } from './in-flight.js';
import { listen, stopAccepting, urlFor } from './listeners.js';
import { RouterMetrics } from './metrics.js';
import { createSiteProxy, type ListenerLimits } from './proxy.js';
import { RouteStore } from './route-store.js';
import { Switchboard } from './switchboard.js';
import { UpstreamPools } from './upstream-pools.js';

export interface StartRouterOptions {
  config: CutoverConfig;
  /** The host this router runs on: it serves every environment of the config whose `host` it is. */
  host: string;
  /** Defaults to JSON lines on stdout. */
  logger?: Logger;
  /** How long close() lets in-flight requests finish before cutting them. */
  shutdownTimeoutMs?: number;
  /** Where the admin secrets are read from (the variables `router.adminTokenEnv` names); process.env by default. */
  env?: NodeJS.ProcessEnv;
  /** Where the request counts go; a fresh set by default. */
  metrics?: RouterMetrics;
}

export interface RunningEnvironment {
  sites: Record<string, { publicUrl: string; previewUrl: string }>;
  switchboard: Switchboard;
}

export interface RunningRouter {
  host: string;
  adminUrl: string;
  environments: Record<string, RunningEnvironment>;
  /** The request counts served on the admin API's /metrics (docs/metrics.md). */
  metrics: RouterMetrics;
  /** Stop accepting, let in-flight requests finish (up to shutdownTimeoutMs), then cut what is left. */
  close(): Promise<void>;
}

/** A slot that does not take the connection within this long (or slotTimeout, if shorter) gets a 504. */
const connectTimeoutMs = 10_000;

/**
 * Starts the router of one host: for every environment of the config on that host, a public and a preview listener
 * per site (routes in the environment's own file), and one admin API for them all.
 */
export async function startRouter(options: StartRouterOptions): Promise<RunningRouter> {
  const { config, host, logger: given, shutdownTimeoutMs = 10_000 } = options;
  const onHost = Object.entries(config.environments).filter(([, env]) => env.host === host);
  if (onHost.length === 0) {
    const hosts = [...new Set(Object.values(config.environments).map((env) => env.host))];
    throw new Error(`no environment of the config runs on host "${host}"; its hosts are: ${hosts.join(', ') || 'none'}`);
  }
  // Environments behind HAProxy or nginx (dataPlane) are theirs: their listeners are not the router's to bind.
  const served = onHost.filter(([, env]) => env.dataPlane.adapter === 'builtin');
  if (served.length === 0)
    throw new Error(`every environment of host "${host}" runs behind HAProxy or nginx (dataPlane): no router needed`);
  const logger = (given ?? pino({ base: { component: 'router' } })).child({ host });
  const access = new Map<string, EnvironmentAccess>();
  for (const [name, env] of served) {
    const token = adminTokenFrom(options.env ?? process.env, env.router.adminTokenEnv);
    access.set(name, { token, slotHosts: new Set(env.router.slotHosts.map((h) => h.toLowerCase())) });
  }
  // The config guarantees every environment of a host names the same admin address.
  const { adminHost, adminPort } = served[0]![1].router;
  const metrics = options.metrics ?? new RouterMetrics();
  // Read-only counts: open to this host's processes on a loopback admin address; elsewhere they need a secret.
  const metricsAccess = { loopback: isLoopbackAddress(adminHost), token: metricsTokenFrom(options.env ?? process.env) };

  const pools = new UpstreamPools();
  const inFlight = new InFlightCount();
  const switchboards = new Map<string, Switchboard>();
  const environments: RunningRouter['environments'] = {};
  const started: Server[] = [];
  const stop = async () => {
    await Promise.all(started.map(stopAccepting));
    for (const switchboard of switchboards.values()) switchboard.retireAll();
    await pools.destroy();
  };
  try {
    for (const [name, env] of served) {
      const store = new RouteStore(config.stateDir, name);
      const { table, droppedSites } = await store.load(env.sites.map((s) => s.name));
      if (droppedSites.length > 0) {
        logger.warn({ environment: name, droppedSites, file: store.file }, 'routes of sites no longer in the config are dropped');
      }
      const limits = listenerLimits(env);
      const switchboard = new Switchboard(table, store, pools, Math.min(connectTimeoutMs, limits.slotTimeoutMs));
      switchboards.set(name, switchboard);
      environments[name] = { sites: {}, switchboard };
      const envLogger = logger.child({ environment: name });
      const { listenHost, trustForwardedHeaders } = env.router;
      for (const site of env.sites) {
        for (const [channel, port] of [
          ['live', site.publicPort],
          ['preview', site.previewPort],
        ] as const) {
          const state = switchboard.listener(site.name, channel);
          const counted = metrics.listener(name, site.name, channel, state);
          const server = createSiteProxy({
            state,
            site: site.name,
            channel,
            inFlight,
            logger: envLogger,
            limits,
            trustForwardedHeaders,
            metrics: counted,
          });
          const what = `the ${channel === 'live' ? 'public' : 'preview'} listener of site ${site.name} of environment ${name}`;
          await listen(server, port, listenHost, what);
          started.push(server);
        }
        const urls = { publicUrl: urlFor(listenHost, site.publicPort), previewUrl: urlFor(listenHost, site.previewPort) };
        environments[name].sites[site.name] = urls;
      }
    }
    const { headersTimeoutMs: headersTimeout, requestTimeoutMs: requestTimeout } = listenerLimits(served[0]![1]);
    const adminAccess = { hosts: adminHostNames(adminHost, adminPort), environments: access, metrics: metricsAccess };
    const admin = createAdaptorServer({
      fetch: createAdminApp(host, switchboards, logger, adminAccess, metrics).fetch,
      serverOptions: { headersTimeout, requestTimeout, connectionsCheckingInterval: 1000 },
    }) as Server;
    await listen(admin, adminPort, adminHost, 'the router admin API');
    started.push(admin);
  } catch (error) {
    await stop();
    throw error;
  }
  const adminUrl = urlFor(adminHost, adminPort);
  const names = [...switchboards.keys()];
  const sites = Object.fromEntries(Object.entries(environments).map(([name, env]) => [name, env.sites]));
  logger.info({ adminUrl, environments: sites }, `router of host ${host} listening for ${names.join(', ')}; admin API on ${adminUrl}`);

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      logger.info({ inFlight: inFlight.value }, 'router stopping: no new connections, finishing requests in flight');
      const stopped = Promise.all(started.map(stopAccepting));
      const finished = await inFlight.zero(shutdownTimeoutMs);
      if (!finished) logger.warn({ inFlight: inFlight.value, shutdownTimeoutMs }, 'cutting requests still in flight');
      for (const server of started) server.closeAllConnections();
      await stopped;
      await stop();
      logger.info('router stopped');
    })());

  return { host, adminUrl, environments, metrics, close };
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
