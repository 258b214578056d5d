import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomically } from '../../../process/atomic-file.js';
import { DataPlaneUnavailableError, UnsupportedError } from '../errors.js';
import { checkSite, parseDrainTimeout, parseLiveTarget, parsePreviewTarget, parseWeights } from '../input.js';
import { messageHtml } from '../pages.js';
import {
  defaultDrainTimeoutMs,
  maintenanceTarget,
  sameTarget,
  type BackendStats,
  type DataPlane,
  type DataPlaneCapabilities,
  type DataPlaneStats,
  type LiveTarget,
  type Replica,
  type SiteTargets,
  type SlotTarget,
} from '../port.js';
import { replicaAddress, type Channel } from '../target-fields.js';
import { Serial } from '../serial.js';
import { backendName, defaultServerSlots, haproxyFiles, type HaproxyFiles } from './config.js';
import { HaproxyRuntimeApi, parseHeadedTable, parseMap } from './runtime-api.js';

export interface HaproxyDataPlaneOptions {
  /** The folder writeHaproxyConfig wrote to. */
  dir: string;
  sites: readonly string[];
  /** As in the generated config: a target may list at most half of them, so the previous one can drain alongside. */
  serverSlots?: number;
  /** How often the drain looks at the sessions of the previous servers. */
  drainPollMs?: number;
}

interface Server {
  backend: string;
  name: string;
  replica: Replica;
  /** Admin state bits of "show servers state" (maintenance 0x23, drain 0x18). */
  admin: number;
  weight: number;
}

const isStopped = (server: Server) => (server.admin & 0x23) !== 0;
const isDraining = (server: Server) => !isStopped(server) && (server.admin & 0x18) !== 0;
const isReady = (server: Server) => !isStopped(server) && !isDraining(server);

/** What the targets map keeps beyond addresses. */
interface TargetNote {
  slotId?: string;
  message?: string;
  package?: SlotTarget['package'];
  /** Replica order as given, so routes() answers what was set. */
  order?: string[];
}

function slotNote({ slotId, package: served, replicas }: SlotTarget): TargetNote {
  return { slotId, package: served, order: replicas.map(replicaAddress) };
}

/**
 * HAProxy as a data plane, through its runtime API only: a switch sets addresses on free server slots, readies them,
 * drains the previous servers and waits for their sessions to end; no reload. After every change the server state and
 * the maps are written to the files HAProxy loads at start, so a restarted HAProxy serves the same routes.
 */
export function createHaproxyDataPlane(options: HaproxyDataPlaneOptions): DataPlane {
  const files: HaproxyFiles = haproxyFiles(options.dir);
  const api = new HaproxyRuntimeApi(files.socket);
  const sites = [...options.sites];
  const serverSlots = options.serverSlots ?? defaultServerSlots;
  const drainPollMs = options.drainPollMs ?? 25;
  const capabilities: DataPlaneCapabilities = { maxReplicas: Math.floor(serverSlots / 2), reloadsOnSwitch: false };
  const serial = new Serial();

  async function servers(): Promise<Server[]> {
    return parseHeadedTable(await api.command('show servers state'), / /).map((row) => ({
      backend: row.be_name!,
      name: row.srv_name!,
      replica: { host: row.srv_addr!, port: Number(row.srv_port) },
      admin: Number(row.srv_admin_state),
      weight: Number(row.srv_uweight),
    }));
  }

  async function maps() {
    const [maintenance, notes] = await Promise.all([files.maintenanceMap, files.targetsMap].map((map) => api.command('show map', map)));
    return { maintenance: parseMap(maintenance!), notes: parseMap(notes!) };
  }

  async function setNote(key: string, note: TargetNote | null, current: Map<string, string>) {
    if (note === null) {
      if (current.has(key)) await api.expectSilent('del map', files.targetsMap, key);
      return;
    }
    const value = Buffer.from(JSON.stringify(note)).toString('base64url');
    await api.expectSilent(current.has(key) ? 'set map' : 'add map', files.targetsMap, key, value);
  }

  function readNote(notes: Map<string, string>, key: string): TargetNote {
    const value = notes.get(key);
    if (!value) return {};
    try {
      return JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as TargetNote;
    } catch {
      return {};
    }
  }

  function slotTarget(ready: Server[], note: TargetNote): SlotTarget {
    const rank = (server: Server) => {
      const index = note.order?.indexOf(replicaAddress(server.replica)) ?? -1;
      return index < 0 ? Number.MAX_SAFE_INTEGER : index;
    };
    const replicas = [...ready].sort((a, b) => rank(a) - rank(b)).map((server) => server.replica);
    return { kind: 'slot', slotId: note.slotId ?? 'unknown', replicas, ...(note.package ? { package: note.package } : {}) };
  }

  async function readRoutes(): Promise<Record<string, SiteTargets>> {
    const [all, { maintenance, notes }] = await Promise.all([servers(), maps()]);
    const routes: Record<string, SiteTargets> = {};
    for (const site of sites) {
      const ready = (channel: Channel) => all.filter((s) => s.backend === backendName(site, channel) && isReady(s));
      const liveNote = readNote(notes, `${site}/live`);
      let live: LiveTarget | null = null;
      if (maintenance.has(site)) {
        live = maintenanceTarget(liveNote.message, liveNote.package);
      } else if (ready('live').length > 0) {
        live = slotTarget(ready('live'), liveNote);
      }
      const previewServers = ready('preview');
      routes[site] = { live, preview: previewServers.length > 0 ? slotTarget(previewServers, readNote(notes, `${site}/preview`)) : null };
    }
    return routes;
  }

  /** The runtime state, written where HAProxy reads it at start; one writer at a time so the last write is the latest state. */
  function persist(): Promise<void> {
    return serial.run('persist', async () => {
      const [state, maintenance, notes] = await Promise.all([
        api.command('show servers state'),
        api.command('show map', files.maintenanceMap),
        api.command('show map', files.targetsMap),
      ]);
      const mapFile = (entries: Map<string, string>) => [...entries].map(([key, value]) => `${key} ${value}\n`).join('');
      await Promise.all([
        writeFileAtomically(files.serverState, state),
        writeFileAtomically(files.maintenanceMap, mapFile(parseMap(maintenance))),
        writeFileAtomically(files.targetsMap, mapFile(parseMap(notes))),
      ]);
    });
  }

  /** Readies the target's replicas in `backend`, reusing servers that already have their address. Returns the others in use. */
  async function readyReplicas(backend: string, target: SlotTarget, inBackend: Server[]): Promise<Server[]> {
    const wanted = new Set(target.replicas.map(replicaAddress));
    const kept = inBackend.filter((s) => !isStopped(s) && wanted.has(replicaAddress(s.replica)));
    const keptKeys = new Set(kept.map((s) => replicaAddress(s.replica)));
    const missing = target.replicas.filter((r) => !keptKeys.has(replicaAddress(r)));
    const free = inBackend.filter(isStopped);
    if (free.length < missing.length) {
      throw new UnsupportedError(
        `backend ${backend} has ${free.length} free server slot(s) of ${inBackend.length}, the target needs ${missing.length}: ` +
          'generate the config with more serverSlots',
      );
    }
    for (const [i, replica] of missing.entries()) {
      const server = free[i]!;
      const answer = await api.command('set server', `${backend}/${server.name}`, 'addr', replica.host, 'port', replica.port);
      if (!/changed|no need to change/.test(answer)) {
        const where = `${backend}/${server.name}`;
        throw new DataPlaneUnavailableError(`HAProxy refused the address ${replicaAddress(replica)} for ${where}: ${answer.trim()}`);
      }
      await api.expectSilent('set server', `${backend}/${server.name}`, 'weight', 1);
      await api.expectSilent('set server', `${backend}/${server.name}`, 'state', 'ready');
    }
    // A new target starts with every replica at weight 1.
    for (const server of kept) {
      await api.expectSilent('set server', `${backend}/${server.name}`, 'weight', 1);
      if (!isReady(server)) await api.expectSilent('set server', `${backend}/${server.name}`, 'state', 'ready');
    }
    return inBackend.filter((s) => !isStopped(s) && !wanted.has(replicaAddress(s.replica)));
  }

  async function sessions(backend: string, names: Set<string>): Promise<number> {
    const rows = parseHeadedTable(await api.command('show stat', backend, 4, -1), /,/);
    return rows.filter((row) => row.pxname === backend && names.has(row.svname!)).reduce((sum, row) => sum + Number(row.scur || 0), 0);
  }

  async function stop(backend: string, leaving: Server[]) {
    // Only those still draining: a later switch may have readied a server again.
    const now = new Map((await servers()).filter((s) => s.backend === backend).map((s) => [s.name, s]));
    for (const server of leaving) {
      const current = now.get(server.name);
      if (current && isDraining(current)) await api.expectSilent('set server', `${backend}/${server.name}`, 'state', 'maint');
    }
  }

  const dataPlane: DataPlane = {
    adapter: 'haproxy',
    capabilities,

    routes: readRoutes,

    async setLive(site, input, opts = {}) {
      checkSite(site, sites);
      const target = parseLiveTarget(input, capabilities);
      const drainTimeoutMs = parseDrainTimeout(opts.drainTimeoutMs, defaultDrainTimeoutMs);
      return serial.run(site, async () => {
        const startedAt = performance.now();
        const previous = (await readRoutes())[site]!.live;
        if (sameTarget(previous, target)) return { previous, drained: true, applyMs: 0, drainMs: 0, inFlightAtSwitch: 0 };
        const backend = backendName(site, 'live');
        const inBackend = (await servers()).filter((s) => s.backend === backend);
        const { maintenance, notes } = await maps();
        let leaving: Server[];
        if (target.kind === 'slot') {
          leaving = await readyReplicas(backend, target, inBackend);
          await setNote(`${site}/live`, slotNote(target), notes);
          if (maintenance.has(site)) await api.expectSilent('del map', files.maintenanceMap, site);
        } else {
          await api.expectSilent(maintenance.has(site) ? 'set map' : 'add map', files.maintenanceMap, site, messageHtml(target.message));
          await setNote(`${site}/live`, { message: target.message, package: target.package }, notes);
          leaving = inBackend.filter((s) => !isStopped(s));
        }
        for (const server of leaving) await api.expectSilent('set server', `${backend}/${server.name}`, 'state', 'drain');
        await persist();
        const applyMs = Math.round(performance.now() - startedAt);

        const drainStart = performance.now();
        const names = new Set(leaving.map((s) => s.name));
        const inFlightAtSwitch = names.size > 0 ? await sessions(backend, names) : 0;
        let left = inFlightAtSwitch;
        while (left > 0 && performance.now() - drainStart < drainTimeoutMs) {
          await sleep(drainPollMs);
          left = await sessions(backend, names);
        }
        const drainMs = Math.round(performance.now() - drainStart);
        await stop(backend, leaving);
        await persist();
        return { previous, drained: left === 0, applyMs, drainMs: inFlightAtSwitch === 0 ? 0 : drainMs, inFlightAtSwitch };
      });
    },

    async setPreview(site, input) {
      checkSite(site, sites);
      const target = parsePreviewTarget(input, capabilities);
      return serial.run(site, async () => {
        const previous = (await readRoutes())[site]!.preview;
        if (sameTarget(previous, target)) return { previous };
        const backend = backendName(site, 'preview');
        const inBackend = (await servers()).filter((s) => s.backend === backend);
        const { notes } = await maps();
        const leaving = target ? await readyReplicas(backend, target, inBackend) : inBackend.filter((s) => !isStopped(s));
        await setNote(`${site}/preview`, target && slotNote(target), notes);
        // A preview is not drained: requests in flight to it finish, new ones go to the new target at once.
        for (const server of leaving) await api.expectSilent('set server', `${backend}/${server.name}`, 'state', 'maint');
        await persist();
        return { previous };
      });
    },

    async setWeights(site, input) {
      checkSite(site, sites);
      return serial.run(site, async () => {
        const backend = backendName(site, 'live');
        const ready = (await servers()).filter((s) => s.backend === backend && isReady(s));
        const weights = parseWeights(
          input,
          site,
          ready.map((s) => s.replica),
        );
        const byKey = new Map(ready.map((s) => [replicaAddress(s.replica), s]));
        for (const w of weights)
          await api.expectSilent('set server', `${backend}/${byKey.get(replicaAddress(w))!.name}`, 'weight', w.weight);
        await persist();
      });
    },

    async stats() {
      const rows = parseHeadedTable(await api.command('show stat', -1, 4, -1), /,/);
      const stats: DataPlaneStats = {};
      for (const site of sites) {
        const channelStats = (channel: Channel) => {
          const backends: BackendStats[] = rows
            .filter((row) => row.pxname === backendName(site, channel) && row.addr !== '127.0.0.1:1')
            .map((row) => {
              const at = row.addr!.lastIndexOf(':');
              const status = row.status ?? '';
              return {
                replica: { host: row.addr!.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(row.addr!.slice(at + 1)) },
                state: stateOf(status),
                weight: Number(row.uweight ?? row.weight ?? 0),
                inFlight: Number(row.scur || 0),
                requests: Number(row.stot || 0),
                responses: {
                  '1xx': Number(row.hrsp_1xx || 0),
                  '2xx': Number(row.hrsp_2xx || 0),
                  '3xx': Number(row.hrsp_3xx || 0),
                  '4xx': Number(row.hrsp_4xx || 0),
                  '5xx': Number(row.hrsp_5xx || 0),
                  other: Number(row.hrsp_other || 0),
                },
              } satisfies BackendStats;
            });
          return { inFlight: backends.reduce((sum, b) => sum + b.inFlight, 0), backends };
        };
        stats[site] = { live: channelStats('live'), preview: channelStats('preview') };
      }
      return stats;
    },
  };
  return dataPlane;
}

/** A server's status in `show stat`: MAINT (set by Cutover), DRAIN, DOWN (its checks failed; "DOWN 1/2" while it comes back), else UP. */
function stateOf(status: string): BackendStats['state'] {
  if (status.startsWith('MAINT')) return 'stopped';
  if (status === 'DRAIN') return 'draining';
  return status.startsWith('DOWN') ? 'down' : 'ready';
}
