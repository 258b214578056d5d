/**
 * The replica book: every copy of every site's slots, one per host and slot, and where each is. Pure in-memory state
 * for the status query (no command), kept by slots.ts as it starts, warms and stops copies and by the record's routes.
 */
import type { RouteTarget } from '../activities/contract.js';
import type { ReplicaState, ReplicaStatus } from './definitions.js';

/** A slot's copy on a host; the port once it started. */
export interface Copy {
  host: string;
  address: string;
  slotId: string;
  port?: number;
}

const gone: readonly ReplicaState[] = ['stopped', 'failed', 'lost'];

export class ReplicaBook {
  private readonly bySite = new Map<string, ReplicaStatus[]>();
  /** The slot each site's canary sends a share of public clients to. */
  private readonly canaries = new Map<string, string | null>();

  /** The copy enters a state; a copy seen for the first time is added. */
  set(site: string, copy: Copy, state: ReplicaState): void {
    const list = this.bySite.get(site) ?? [];
    this.bySite.set(site, list);
    const known = list.find((r) => r.host === copy.host && r.slotId === copy.slotId);
    if (known) Object.assign(known, { address: copy.address, state }, copy.port === undefined ? {} : { port: copy.port });
    else list.push({ host: copy.host, address: copy.address, slotId: copy.slotId, port: copy.port ?? null, state });
  }

  /** The slot's copy on the host stopped (a stop names only the slot): a copy the book does not know stays unknown. */
  stopped(slotId: string, host: string): void {
    for (const r of this.all()) if (r.slotId === slotId && r.host === host) r.state = 'stopped';
  }

  /** The site's public traffic goes to this slot (else to no slot): its copies serve; those that served stay warm. */
  route(site: string, serving: string | null): void {
    for (const r of this.bySite.get(site) ?? []) {
      if (r.slotId === serving && !gone.includes(r.state)) r.state = 'serving';
      else if (r.slotId !== serving && r.state === 'serving') r.state = 'warm';
    }
  }

  /** A canary takes a share of the site's public clients to this slot (null: no share): its copies serve, or are warm again. */
  canary(site: string, slotId: string | null): void {
    const before = this.canaries.get(site) ?? null;
    this.canaries.set(site, slotId);
    for (const r of this.bySite.get(site) ?? []) {
      if (r.slotId === slotId && !gone.includes(r.state)) r.state = 'serving';
      else if (r.slotId === before && r.state === 'serving') r.state = 'warm';
    }
  }

  /** No agent of the host took a step in time: every copy on it that had not stopped is lost. Returns those just lost. */
  hostLost(host: string): ReplicaStatus[] {
    const lost = this.all().filter((r) => r.host === host && r.state !== 'stopped' && r.state !== 'lost');
    for (const r of lost) r.state = 'lost';
    return lost;
  }

  /** A snapshot of the site's copies, in the order they were first seen. */
  of(site: string): ReplicaStatus[] {
    return (this.bySite.get(site) ?? []).map((r) => ({ ...r }));
  }

  private all(): ReplicaStatus[] {
    return [...this.bySite.values()].flat();
  }
}

/** The copies a live slot route sends requests to, named by the host at their address (one copy: the one host). */
export function routedCopies(route: RouteTarget, hosts: ReadonlyArray<{ name: string; address: string }>): Copy[] {
  if (route.kind !== 'slot') return [];
  const single = !route.replicas;
  return (route.replicas ?? [{ host: route.host, port: route.port }]).map((r) => {
    const address = r.host ?? '127.0.0.1';
    const host = hosts.find((h) => h.address === address) ?? (single && hosts.length === 1 ? hosts[0] : undefined);
    return { host: host?.name ?? address, address: host?.address ?? address, slotId: route.slotId, ...(r.port ? { port: r.port } : {}) };
  });
}
