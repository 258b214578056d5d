import { performance } from 'node:perf_hooks';
import { InFlightCount } from './in-flight.js';
import { replicasOf, type MaintenanceRoute, type Route } from './routes.js';
import type { Upstream, UpstreamPools } from './upstream-pools.js';

/** A slot route in force: its replicas' connection pools, sharing new requests by weight, and the requests it carries. */
export class SlotTarget {
  readonly kind = 'slot';
  /** Requests sent to this target; once it is replaced, only these finish: a switch waits for them. */
  readonly inFlight = new InFlightCount();
  private next = 0;
  private weights: number[];
  /** Smooth weighted round robin (as nginx): each pick adds every weight, takes the highest, and takes the total off it. */
  private readonly current: number[];
  private even: boolean;

  constructor(
    readonly upstreams: readonly Upstream[],
    weights: readonly number[],
  ) {
    this.weights = [...weights];
    this.current = weights.map(() => 0);
    this.even = weights.every((w) => w === weights[0]);
  }

  /** The replica for the next request: in turn, or by weight once weights differ. */
  pick(): Upstream {
    const chosen = this.pickInTurn();
    if (chosen.unreachableUntil === 0 || this.upstreams.length === 1) return chosen;
    return this.reachableInstead(chosen);
  }

  /** A replica whose host did not take a connection a moment ago is passed over while another one can take the request. */
  private reachableInstead(chosen: Upstream): Upstream {
    const now = performance.now();
    if (chosen.unreachableUntil <= now) {
      chosen.unreachableUntil = 0;
      return chosen;
    }
    const start = this.upstreams.indexOf(chosen);
    for (let i = 1; i < this.upstreams.length; i += 1) {
      const index = (start + i) % this.upstreams.length;
      const other = this.upstreams[index]!;
      if (this.weights[index]! > 0 && other.unreachableUntil <= now) return other;
    }
    return chosen;
  }

  private pickInTurn(): Upstream {
    if (this.even) {
      const upstream = this.upstreams[this.next]!;
      this.next = this.next + 1 === this.upstreams.length ? 0 : this.next + 1;
      return upstream;
    }
    let best = 0;
    let total = 0;
    for (let i = 0; i < this.weights.length; i += 1) {
      this.current[i]! += this.weights[i]!;
      total += this.weights[i]!;
      if (this.current[i]! > this.current[best]!) best = i;
    }
    this.current[best]! -= total;
    return this.upstreams[best]!;
  }

  /** New shares for the same replicas; requests in flight stay counted here. */
  reweigh(weights: readonly number[]): void {
    this.weights = [...weights];
    this.current.fill(0);
    this.even = weights.every((w) => w === weights[0]);
  }
}

export interface MaintenanceTarget {
  readonly kind: 'maintenance';
  readonly route: MaintenanceRoute;
}

/** What a listener sends a request to: a slot, or the maintenance page. */
export type Target = SlotTarget | MaintenanceTarget;

/** Opens (or shares) the pools of a route's replicas. */
export function targetOf(route: Route, pools: UpstreamPools, connectTimeoutMs: number): Target {
  if (route.kind === 'maintenance') return { kind: 'maintenance', route };
  const replicas = replicasOf(route);
  const upstreams = replicas.map((replica) => pools.acquire(route.slotId, replica, connectTimeoutMs));
  return new SlotTarget(
    upstreams,
    replicas.map((replica) => replica.weight ?? 1),
  );
}

/** Gives a replaced target's pools back once the requests it still carries finished. */
export function retire(target: Target | null, pools: UpstreamPools): void {
  if (target?.kind !== 'slot') return;
  target.inFlight.whenZero(() => {
    for (const upstream of target.upstreams) pools.release(upstream);
  });
}
