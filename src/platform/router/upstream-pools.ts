import { replicaAddress } from '../data-plane/target-fields.js';
import type { Replica } from './routes.js';
import { SlotConnections } from './slot-connections.js';

/** One replica of one slot, as the proxy sends requests to it: kept-alive connections and a name for messages. */
export interface Upstream {
  readonly connections: SlotConnections;
  /** "slot <slotId> at <host>:<port>", for answers and logs. */
  readonly label: string;
  readonly slotId: string;
  /** slotId@address: which pool it is. */
  readonly key: string;
  /** Until when (performance.now()) its host is taken for unreachable: it refused or did not take a connection. */
  unreachableUntil: number;
}

/**
 * Kept-alive connections to the slots the routes point to, shared by every listener of the router. One pool per
 * replica of a slot, so a switch never reuses a connection to the slot it left (a new slot on a reused port is a new
 * pool); a pool no route uses any more is closed, letting the requests it still carries finish.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, { upstream: Upstream; users: number }>();

  /** The pool of `replica` of `slotId`, opened on first use; every acquire is matched by one release. */
  acquire(slotId: string, replica: Replica, connectTimeoutMs: number): Upstream {
    const address = replicaAddress(replica);
    const key = `${slotId}@${address}`;
    const known = this.pools.get(key);
    if (known) {
      known.users += 1;
      return known.upstream;
    }
    const connections = new SlotConnections(replica.host, replica.port, connectTimeoutMs);
    const upstream: Upstream = { connections, label: `slot ${slotId} at ${address}`, slotId, key, unreachableUntil: 0 };
    this.pools.set(key, { upstream, users: 1 });
    return upstream;
  }

  release(upstream: Upstream): void {
    const entry = this.pools.get(upstream.key);
    if (entry?.upstream !== upstream) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    this.pools.delete(upstream.key);
    // Graceful: requests already sent finish, then the connections close.
    void upstream.connections.close();
  }

  get size(): number {
    return this.pools.size;
  }

  /** Cuts every connection (the router is stopping and what was in flight had its time). */
  async destroy(): Promise<void> {
    const pools = [...this.pools.values()].map((entry) => entry.upstream.connections);
    this.pools.clear();
    await Promise.all(pools.map((connections) => connections.destroy()));
  }
}
