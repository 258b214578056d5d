import { performance } from 'node:perf_hooks';
import { HeldRequests } from './hold.js';
import { InFlightCount } from './in-flight.js';
import type { RouteStore } from './route-store.js';
import { CanaryTarget } from './canary.js';
import {
  replicasOf,
  sameRoute,
  type Canary,
  type ReplicaWeight,
  type Route,
  type RouteTable,
  type SiteRoutes,
  type SlotRoute,
} from './routes.js';
import { replicaAddress, type Channel } from '../data-plane/target-fields.js';
import { retire, targetOf, type SlotTarget, type Target } from './targets.js';
import type { UpstreamPools } from './upstream-pools.js';

export interface LiveSwitch {
  previous: Route | null;
  /** Every request that was in flight to the previous target at the switch finished before drainTimeoutMs. */
  drained: boolean;
  inFlightAtSwitch: number;
  drainMs: number;
}

/** Public traffic held: every request in flight to the live target (and its canary) at the hold finished, or the timeout passed. */
export interface LiveHold {
  drained: boolean;
  inFlightAtHold: number;
  drainMs: number;
  /** How long a held request waits for the next switch before it gets the maintenance page. */
  timeoutMs: number;
}

/** A canary set, changed or removed: `drained` as for a live switch, for the canary target it left (if any). */
export interface CanarySwitch {
  previous: Canary | null;
  drained: boolean;
  inFlightAtSwitch: number;
  drainMs: number;
}

/** A canary the site cannot take (the message names the field); nothing changed. */
export class CanaryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanaryError';
  }
}

export interface PreviewSwitch {
  previous: SlotRoute | null;
}

/** A change of weights the live target cannot take (the message names the field); nothing changed. */
export class WeightsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WeightsError';
  }
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

/** One listener's view of the switchboard: read by every request it proxies, so it is one property away. */
export interface ListenerState {
  /** What a request arriving now goes to; null when nothing is routed. */
  target: Target | null;
  /** Requests of this listener in flight. */
  readonly inFlight: InFlightCount;
  /** The live listener's canary: a share of clients (and the allow-list) go to its slot instead. */
  canary?: CanaryTarget | null;
  /** The live listener's new requests wait here until the next live switch (kept in memory only). */
  hold?: HeldRequests | null;
}

/** The routes of one environment in force: read on every proxied request, changed only after the change is on disk. */
export class Switchboard {
  private table: RouteTable;
  private readonly listeners = new Map<string, Record<Channel, ListenerState>>();
  // Switches are written one at a time so the file and memory always agree on the last one.
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    table: RouteTable,
    private readonly store: RouteStore,
    private readonly pools: UpstreamPools,
    private readonly connectTimeoutMs: number,
  ) {
    this.table = table;
    for (const [site, routes] of Object.entries(table.sites)) {
      const state = (route: Route | null): ListenerState => ({
        target: route && targetOf(route, pools, connectTimeoutMs),
        inFlight: new InFlightCount(),
      });
      const live = state(routes.live);
      if (routes.canary) live.canary = this.canaryTarget(routes.canary);
      this.listeners.set(site, { live, preview: state(routes.preview) });
    }
  }

  get environment(): string {
    return this.table.environment;
  }

  get sites(): string[] {
    return Object.keys(this.table.sites);
  }

  /** The state `site`'s listener for `channel` reads on each request. */
  listener(site: string, channel: Channel): ListenerState {
    this.siteRoutes(site);
    return this.listeners.get(site)![channel];
  }

  routes(site: string): SiteRoutes {
    return this.siteRoutes(site);
  }

  /** Persists, switches, then waits for the requests in flight to the previous live target to finish. */
  async setLive(site: string, route: Route, drainTimeoutMs: number): Promise<LiveSwitch> {
    const switched = await this.write(site, 'live', route);
    const { previous, left, leftCanary } = switched;
    return { previous, ...(await drain([left, leftCanary], drainTimeoutMs)) };
  }

  /**
   * Holds the site's new public requests (neither answered nor refused) until the next live switch, which sends them to
   * its target; then waits for the requests in flight to the live target (and its canary) to finish. Holding again
   * keeps the requests already held and takes the new timeout for those to come.
   */
  async hold(site: string, timeoutMs: number, drainTimeoutMs: number): Promise<LiveHold> {
    this.siteRoutes(site);
    const next = this.writes.then(() => {
      const state = this.listeners.get(site)!.live;
      // One assignment, as a switch: every request from here on waits.
      state.hold ??= new HeldRequests(timeoutMs);
      state.hold.timeoutMs = timeoutMs;
      return [state.target, state.canary?.target ?? null];
    });
    this.writes = next.catch(() => undefined);
    const { drained, inFlightAtSwitch, drainMs } = await drain(await next, drainTimeoutMs);
    return { drained, inFlightAtHold: inFlightAtSwitch, drainMs, timeoutMs };
  }

  /**
   * Sets, changes or (null) removes the canary of the live target, on disk first. A new share or allow-list keeps the
   * canary's slot (no drain); a canary removed or moved to another slot drains the one it left, as a live switch does.
   */
  async setCanary(site: string, canary: Canary | null, drainTimeoutMs: number): Promise<CanarySwitch> {
    this.siteRoutes(site);
    const next = this.writes.then(async () => {
      const current = this.siteRoutes(site);
      if (canary && current.live?.kind !== 'slot') throw new CanaryError(`canary: the live target of ${site} is not a slot`);
      if (canary && sameRoute(current.live, canary.target)) throw new CanaryError('target: must be another slot than the live target');
      const previous = current.canary ?? null;
      const { canary: _dropped, ...rest } = current;
      const routes: SiteRoutes = canary ? { ...rest, canary } : rest;
      const table: RouteTable = { ...this.table, sites: { ...this.table.sites, [site]: routes } };
      await this.store.save(table);
      const state = this.listeners.get(site)!.live;
      const before = state.canary ?? null;
      const kept = before !== null && canary !== null && sameRoute(before.route.target, canary.target);
      if (kept) before.target.reweigh(replicasOf(canary.target).map((replica) => replica.weight ?? 1));
      // One assignment, as a switch: every request from here on sees the new share.
      state.canary = canary && (kept ? before.with(canary) : this.canaryTarget(canary));
      this.table = table;
      const left = kept ? null : (before?.target ?? null);
      retire(left, this.pools);
      return { previous, left };
    });
    this.writes = next.catch(() => undefined);
    const { previous, left } = await next;
    return { previous, ...(await drain([left], drainTimeoutMs)) };
  }

  async setPreview(site: string, route: SlotRoute | null): Promise<PreviewSwitch> {
    const { previous } = await this.write(site, 'preview', route);
    return { previous: previous as SlotRoute | null };
  }

  /**
   * New shares of the live target's requests for the replicas named (the others keep theirs), on disk first. The
   * target stays the same: no drain, and requests in flight stay counted for the next switch.
   */
  setWeights(site: string, weights: readonly ReplicaWeight[]): Promise<void> {
    this.siteRoutes(site);
    const next = this.writes.then(async () => {
      const current = this.siteRoutes(site);
      const live = current.live;
      if (live?.kind !== 'slot') throw new WeightsError(`weights: the live target of ${site} is not a slot`);
      const replicas = replicasOf(live);
      const byAddress = new Map(replicas.map((replica, index) => [replicaAddress(replica), index]));
      const shares = replicas.map((replica) => replica.weight ?? 1);
      weights.forEach((w, i) => {
        const index = byAddress.get(replicaAddress(w));
        if (index === undefined) {
          throw new WeightsError(`weights[${i}]: ${replicaAddress(w)} is not a replica of the live target of ${site}`);
        }
        shares[index] = w.weight;
      });
      if (shares.every((share) => share === 0)) throw new WeightsError('weights: at least one replica must keep a weight above 0');
      // One copy has nothing to share with: its route keeps the { host, port } shape.
      if (!live.replicas) return;
      const weighted = replicas.map((replica, index) => ({ host: replica.host, port: replica.port, weight: shares[index] }));
      const route: SlotRoute = { ...live, replicas: weighted };
      const table: RouteTable = { ...this.table, sites: { ...this.table.sites, [site]: { ...current, live: route } } };
      await this.store.save(table);
      this.table = table;
      const target = this.listeners.get(site)!.live.target;
      if (target?.kind === 'slot') target.reweigh(shares);
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** Gives back every pool (the router is stopping). */
  retireAll(): void {
    for (const channels of this.listeners.values()) {
      for (const state of Object.values(channels)) {
        retire(state.target, this.pools);
        state.target = null;
        retire(state.canary?.target ?? null, this.pools);
        state.canary = null;
        state.hold?.drop();
        state.hold = null;
      }
    }
  }

  /** The target that was in force, when the route changed. */
  private write(
    site: string,
    channel: Channel,
    route: Route | null,
  ): Promise<{ previous: Route | null; left?: Target | null; leftCanary?: Target | null }> {
    this.siteRoutes(site);
    const next = this.writes.then(async () => {
      const current = this.siteRoutes(site);
      const previous = current[channel];
      if (sameRoute(previous, route)) {
        if (channel === 'live') this.release(site);
        return { previous };
      }
      // A new live target ends its canary: after a switch no request reaches a slot it did not name.
      const { canary: _dropped, ...rest } = current;
      const routes = (channel === 'live' ? { ...rest, live: route } : { ...current, [channel]: route }) as SiteRoutes;
      const table: RouteTable = { ...this.table, sites: { ...this.table.sites, [site]: routes } };
      await this.store.save(table);
      const state = this.listeners.get(site)![channel];
      const left = state.target;
      const leftCanary = state.canary?.target ?? null;
      // The switch itself: one assignment, so every request from here on sees the new target.
      state.target = route && targetOf(route, this.pools, this.connectTimeoutMs);
      state.canary = null;
      this.table = table;
      this.release(site);
      retire(left, this.pools);
      retire(leftCanary, this.pools);
      return { previous, left, leftCanary };
    });
    this.writes = next.catch(() => undefined);
    return next;
  }

  /** A live switch ends the hold: the held requests go to the target now in force. */
  private release(site: string): void {
    const state = this.listeners.get(site)!.live;
    const held = state.hold;
    state.hold = null;
    held?.release();
  }

  private canaryTarget(canary: Canary): CanaryTarget {
    return new CanaryTarget(canary, targetOf(canary.target, this.pools, this.connectTimeoutMs) as SlotTarget);
  }

  private siteRoutes(site: string): SiteRoutes {
    const routes = Object.hasOwn(this.table.sites, site) ? this.table.sites[site] : undefined;
    if (!routes) throw new UnknownSiteError(site, this.table.environment, this.sites);
    return routes;
  }
}

/** Waits for the requests in flight to the targets a switch left (at the switch) to finish, or the timeout. */
async function drain(left: ReadonlyArray<Target | null | undefined>, drainTimeoutMs: number): Promise<Omit<LiveSwitch, 'previous'>> {
  const slots = left.filter((target): target is SlotTarget => target?.kind === 'slot' && target.inFlight.value > 0);
  const inFlightAtSwitch = slots.reduce((sum, target) => sum + target.inFlight.value, 0);
  if (inFlightAtSwitch === 0) return { drained: true, inFlightAtSwitch: 0, drainMs: 0 };
  const startedAt = performance.now();
  const drained = (await Promise.all(slots.map((target) => target.inFlight.zero(drainTimeoutMs)))).every(Boolean);
  return { drained, inFlightAtSwitch, drainMs: Math.round(performance.now() - startedAt) };
}
