import { performance } from 'node:perf_hooks';
import { createRouterClient, RouterClientError, type RouterClient } from '../router/client.js';
import { replicasOf, type Canary as CanaryRoute, type Route, type SlotRoute } from '../router/routes.js';
import { DataPlaneError, DataPlaneUnavailableError, InvalidRequestError, UnknownSiteError } from './errors.js';
import { parseCanary, parseDrainTimeout, parseHoldTimeout, parseLiveTarget, parsePreviewTarget, parseWeights } from './input.js';
import {
  defaultDrainTimeoutMs,
  maintenanceTarget,
  type Canary,
  type DataPlane,
  type DataPlaneCapabilities,
  type DataPlaneStats,
  type LiveTarget,
  type SiteTargets,
  type SlotTarget,
} from './port.js';
import { maxReplicas } from './target-fields.js';

const capabilities: DataPlaneCapabilities = { maxReplicas, reloadsOnSwitch: false };

/**
 * The built-in router (src/platform/router) as a data plane: the router process of the environment's host, sharing
 * each target's requests between its replicas in turn. Takes what createRouterClient takes (the environment included).
 */
export function createBuiltinDataPlane(...connect: Parameters<typeof createRouterClient>): DataPlane {
  const client: RouterClient = createRouterClient(...connect);

  return {
    adapter: 'builtin',
    capabilities,

    async routes() {
      const view = await call(() => client.getRoutes());
      const sites: Record<string, SiteTargets> = {};
      for (const [name, routes] of Object.entries(view.sites)) {
        sites[name] = { live: routes.live && fromRoute(routes.live), preview: routes.preview && fromSlotRoute(routes.preview) };
      }
      return sites;
    },

    async setLive(site, input, options = {}) {
      const target = parseLiveTarget(input, capabilities);
      const drainTimeoutMs = parseDrainTimeout(options.drainTimeoutMs, defaultDrainTimeoutMs);
      const startedAt = performance.now();
      const result = await call(() => client.setLive(site, toRoute(target), { drainTimeoutMs }), site);
      const totalMs = Math.round(performance.now() - startedAt);
      return {
        previous: result.previous && fromRoute(result.previous),
        drained: result.drained,
        applyMs: Math.max(0, totalMs - result.drainMs),
        drainMs: result.drainMs,
        inFlightAtSwitch: result.inFlightAtSwitch,
      };
    },

    async hold(site, options = {}) {
      const timeoutMs = parseHoldTimeout(options.timeoutMs);
      const drainTimeoutMs = parseDrainTimeout(options.drainTimeoutMs, defaultDrainTimeoutMs);
      const result = await call(() => client.hold(site, timeoutMs === undefined ? {} : { timeoutMs }, { drainTimeoutMs }), site);
      return { drained: result.drained, drainMs: result.drainMs, inFlightAtHold: result.inFlightAtHold, timeoutMs: result.timeoutMs };
    },

    async setPreview(site, input) {
      const target = parsePreviewTarget(input, capabilities);
      const result = await call(() => client.setPreview(site, target && toSlotRoute(target)), site);
      return { previous: result.previous && fromSlotRoute(result.previous) };
    },

    async setWeights(site, input) {
      const view = await call(() => client.getRoutes());
      if (!Object.hasOwn(view.sites, site)) throw new UnknownSiteError(site, Object.keys(view.sites));
      const live = view.sites[site]!.live;
      const weights = parseWeights(input, site, live?.kind === 'slot' ? replicasOf(live) : []);
      await call(() => client.setWeights(site, weights), site);
    },

    async setCanary(site, input, options = {}) {
      const canary = parseCanary(input, capabilities);
      const drainTimeoutMs = parseDrainTimeout(options.drainTimeoutMs, defaultDrainTimeoutMs);
      const route = canary && { ...canary, target: toSlotRoute(canary.target) };
      const result = await call(() => client.setCanary(site, route, { drainTimeoutMs }), site);
      return {
        previous: result.previous && fromCanaryRoute(result.previous),
        drained: result.drained,
        drainMs: result.drainMs,
        inFlightAtSwitch: result.inFlightAtSwitch,
      };
    },

    async stats() {
      const view = await call(() => client.getRoutes());
      const stats: DataPlaneStats = {};
      for (const [name, routes] of Object.entries(view.sites)) {
        stats[name] = { live: { inFlight: routes.inFlight.live }, preview: { inFlight: routes.inFlight.preview } };
      }
      return stats;
    },
  };

  /** The router's answers as the port's typed errors. */
  async function call<T>(request: () => Promise<T>, site?: string): Promise<T> {
    try {
      return await request();
    } catch (error) {
      if (!(error instanceof RouterClientError)) throw error;
      // A router that does not serve the environment (added to the config since it started) is not a missing site.
      const unserved = error.status === 404 && error.message.startsWith('unknown environment');
      if (unserved) {
        throw new DataPlaneUnavailableError(`built-in router: ${error.message} (restart it to serve a new environment)`, { cause: error });
      }
      if (error.status === 404 && site !== undefined) {
        const known = await client.getRoutes().then(
          (view) => Object.keys(view.sites),
          () => [],
        );
        throw new UnknownSiteError(site, known);
      }
      if (error.status === 400) throw new InvalidRequestError(error.message);
      const Failure = error.status === 0 || error.status >= 500 ? DataPlaneUnavailableError : DataPlaneError;
      throw new Failure(`built-in router: ${error.message}`, { cause: error });
    }
  }
}

/** One replica in the shape the workflow's routes use ({ host, port }), several as `replicas`. */
function toSlotRoute(target: SlotTarget): SlotRoute {
  const { slotId, replicas, package: served } = target;
  const one = replicas.length === 1 ? replicas[0] : undefined;
  const where = one ? { host: one.host, port: one.port } : { replicas: replicas.map(({ host, port }) => ({ host, port })) };
  return { kind: 'slot', slotId, ...where, ...(served ? { package: served } : {}) };
}

function toRoute(target: LiveTarget): Route {
  if (target.kind === 'slot') return toSlotRoute(target);
  return maintenanceTarget(target.message, target.package);
}

function fromSlotRoute(route: SlotRoute): SlotTarget {
  const { slotId, package: served } = route;
  const replicas = replicasOf(route).map(({ host, port }) => ({ host, port }));
  return { kind: 'slot', slotId, replicas, ...(served ? { package: served } : {}) };
}

function fromRoute(route: Route): LiveTarget {
  if (route.kind === 'slot') return fromSlotRoute(route);
  return maintenanceTarget(route.message, route.package);
}

function fromCanaryRoute(route: CanaryRoute): Canary {
  return { ...route, target: fromSlotRoute(route.target) };
}
