import { performance } from 'node:perf_hooks';
import { createRouterClient, RouterClientError, type RouterClient } from '../router/client.js';
import type { Route, SlotRoute } from '../router/routes.js';
import { DataPlaneError, DataPlaneUnavailableError, InvalidRequestError, UnknownSiteError } from './errors.js';
import { parseDrainTimeout, parseLiveTarget, parsePreviewTarget } from './input.js';
import {
  defaultDrainTimeoutMs,
  maintenanceTarget,
  type DataPlane,
  type DataPlaneCapabilities,
  type DataPlaneStats,
  type LiveTarget,
  type SiteTargets,
  type SlotTarget,
} from './port.js';

const capabilities: DataPlaneCapabilities = { maxReplicas: 1, reloadsOnSwitch: false };

/**
 * The built-in router (src/platform/router) as a data plane: one router process serves the environment, and it
 * proxies to one replica per target. Takes what createRouterClient takes.
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

    async setPreview(site, input) {
      const target = parsePreviewTarget(input, capabilities);
      const result = await call(() => client.setPreview(site, target && toSlotRoute(target)), site);
      return { previous: result.previous && fromSlotRoute(result.previous) };
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

function toSlotRoute(target: SlotTarget): SlotRoute {
  const [replica] = target.replicas;
  const { slotId, package: served } = target;
  return { kind: 'slot', slotId, host: replica!.host, port: replica!.port, ...(served ? { package: served } : {}) };
}

function toRoute(target: LiveTarget): Route {
  if (target.kind === 'slot') return toSlotRoute(target);
  return maintenanceTarget(target.message, target.package);
}

function fromSlotRoute(route: SlotRoute): SlotTarget {
  const { slotId, host, port, package: served } = route;
  return { kind: 'slot', slotId, replicas: [{ host, port }], ...(served ? { package: served } : {}) };
}

function fromRoute(route: Route): LiveTarget {
  if (route.kind === 'slot') return fromSlotRoute(route);
  return maintenanceTarget(route.message, route.package);
}
