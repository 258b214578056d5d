import { performance } from 'node:perf_hooks';
import type { InFlightRequests } from './in-flight.js';
import type { RouteStore } from './route-store.js';
import { sameRoute, targetKey, type Channel, type Route, type RouteTable, type SiteRoutes, type SlotRoute } from './routes.js';

export interface LiveSwitch {
  previous: Route | null;
  /** Every request that was in flight to the previous target at the switch finished before drainTimeoutMs. */
  drained: boolean;
  inFlightAtSwitch: number;
  drainMs: number;
}

export interface PreviewSwitch {
  previous: SlotRoute | null;
}

export class UnknownSiteError extends Error {
  constructor(
    readonly site: string,
    environment: string,
    known: readonly string[],
  ) {
    super(`unknown site "${site}" in environment "${environment}"; its sites are: ${known.join(', ')}`);
    this.name = 'UnknownSiteError';
  }
}

/** The routes in force: read on every proxied request, changed only after the change is on disk. */
export class Switchboard {
  private table: RouteTable;
  // Switches are written one at a time so the file and memory always agree on the last one.
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    table: RouteTable,
    private readonly store: RouteStore,
    readonly inFlight: InFlightRequests,
  ) {
    this.table = table;
  }

  get environment(): string {
    return this.table.environment;
  }

  get sites(): string[] {
    return Object.keys(this.table.sites);
  }

  /** The target of a request arriving now on `site`'s listener for `channel`. */
  route(site: string, channel: Channel): Route | null {
    return this.table.sites[site]?.[channel] ?? null;
  }

  routes(site: string): SiteRoutes {
    return this.siteRoutes(site);
  }

  /** Persists, switches, then waits for the requests in flight to the previous live target to finish. */
  async setLive(site: string, route: Route, drainTimeoutMs: number): Promise<LiveSwitch> {
    const switched = await this.write(site, 'live', route);
    if (!switched.changed) return { previous: switched.previous, drained: true, inFlightAtSwitch: 0, drainMs: 0 };
    const previous = switched.previous;
    const leftBehind = previous?.kind === 'slot' ? this.inFlight.snapshot(targetKey(previous)) : [];
    if (leftBehind.length === 0) return { previous, drained: true, inFlightAtSwitch: 0, drainMs: 0 };
    const startedAt = performance.now();
    const drained = await this.inFlight.drain(leftBehind, drainTimeoutMs);
    return { previous, drained, inFlightAtSwitch: leftBehind.length, drainMs: Math.round(performance.now() - startedAt) };
  }

  async setPreview(site: string, route: SlotRoute | null): Promise<PreviewSwitch> {
    const { previous } = await this.write(site, 'preview', route);
    return { previous: previous as SlotRoute | null };
  }

  private write(site: string, channel: Channel, route: Route | null): Promise<{ previous: Route | null; changed: boolean }> {
    this.siteRoutes(site);
    const next = this.writes.then(async () => {
      const current = this.siteRoutes(site);
      const previous = current[channel];
      if (sameRoute(previous, route)) return { previous, changed: false };
      const table: RouteTable = { ...this.table, sites: { ...this.table.sites, [site]: { ...current, [channel]: route } } };
      await this.store.save(table);
      // The switch itself: one assignment, so every request from here on sees the new target.
      this.table = table;
      return { previous, changed: true };
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  private siteRoutes(site: string): SiteRoutes {
    const routes = Object.hasOwn(this.table.sites, site) ? this.table.sites[site] : undefined;
    if (!routes) throw new UnknownSiteError(site, this.table.environment, this.sites);
    return routes;
  }
}
