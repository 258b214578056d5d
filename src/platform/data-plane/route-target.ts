/** A workflow's RouteTarget and the data plane's target, converted in one place (both ways). */
import type { RouteTarget } from '../../activities/contract.js';
import { maintenanceTarget, type LiveTarget, type SlotTarget } from './port.js';

type SlotRouteTarget = Extract<RouteTarget, { kind: 'slot' }>;

/** One copy ({ slotId, port, host? }, loopback by default) or several (replicas); weights stay with the data plane. */
export function toSlotTarget(route: SlotRouteTarget): SlotTarget {
  const replicas = route.replicas
    ? route.replicas.map(({ host, port }) => ({ host: host ?? '127.0.0.1', port }))
    : [{ host: route.host ?? '127.0.0.1', port: route.port! }];
  return { kind: 'slot', slotId: route.slotId, replicas, ...(route.package ? { package: route.package } : {}) };
}

export function toLiveTarget(route: RouteTarget): LiveTarget {
  if (route.kind === 'slot') return toSlotTarget(route);
  return maintenanceTarget(route.message, route.package);
}

/** Back to the workflow's shape: one replica as { host, port }, as the built-in router has always answered. */
export function fromTarget(target: LiveTarget): RouteTarget {
  if (target.kind === 'maintenance') return maintenanceTarget(target.message, target.package);
  const { slotId, replicas, package: served } = target;
  const one = replicas.length === 1 ? replicas[0]! : undefined;
  const where = one ? { host: one.host, port: one.port } : { replicas: replicas.map(({ host, port }) => ({ host, port })) };
  return { kind: 'slot', slotId, ...where, ...(served ? { package: served } : {}) };
}
