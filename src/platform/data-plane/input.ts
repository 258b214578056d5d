import { InvalidRequestError, invalidTarget, UnknownSiteError, UnsupportedError } from './errors.js';
import {
  canarySchema,
  liveTargetSchema,
  replicaWeightsSchema,
  slotTargetSchema,
  type Canary,
  type DataPlaneCapabilities,
  type LiveTarget,
  type Replica,
  type ReplicaWeight,
  type SlotTarget,
} from './port.js';
import { replicaAddress } from './target-fields.js';
import { maxHoldTimeoutMs } from '../router/hold.js';

/** Every adapter checks its input the same way, before touching anything: a bad call changes nothing. */

export function checkSite(site: string, known: readonly string[]): void {
  if (!known.includes(site)) throw new UnknownSiteError(site, known);
}

export function parseLiveTarget(input: unknown, capabilities: DataPlaneCapabilities): LiveTarget {
  const parsed = liveTargetSchema.safeParse(input);
  if (!parsed.success) throw invalidTarget(parsed.error, 'target');
  if (parsed.data.kind === 'slot') checkReplicaCount(parsed.data, capabilities);
  return parsed.data;
}

export function parsePreviewTarget(input: unknown, capabilities: DataPlaneCapabilities): SlotTarget | null {
  if (input === null) return null;
  const parsed = slotTargetSchema.safeParse(input);
  if (!parsed.success) throw invalidTarget(parsed.error, 'target');
  checkReplicaCount(parsed.data, capabilities);
  return parsed.data;
}

export function parseCanary(input: unknown, capabilities: DataPlaneCapabilities): Canary | null {
  if (input === null) return null;
  const parsed = canarySchema.safeParse(input);
  if (!parsed.success) throw invalidTarget(parsed.error, 'canary');
  checkReplicaCount(parsed.data.target, capabilities);
  return parsed.data;
}

/** Weights for replicas of `site`'s live target (`live`): at least one must stay above 0. */
export function parseWeights(input: unknown, site: string, live: readonly Replica[]): ReplicaWeight[] {
  const parsed = replicaWeightsSchema.safeParse(input);
  if (!parsed.success) throw invalidTarget(parsed.error, 'weights');
  if (parsed.data.every((w) => w.weight === 0)) throw new InvalidRequestError('weights: at least one replica must keep a weight above 0');
  const keys = new Set(live.map(replicaAddress));
  parsed.data.forEach((w, i) => {
    if (!keys.has(replicaAddress(w))) {
      throw new InvalidRequestError(`weights[${i}]: ${replicaAddress(w)} is not a replica of the live target of ${site}`);
    }
  });
  return parsed.data;
}

export function parseDrainTimeout(value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0 || value > 3_600_000) {
    throw new InvalidRequestError(`options.drainTimeoutMs: must be a whole number of milliseconds between 0 and 3600000, got ${value}`);
  }
  return value;
}

/** How long a held request may wait for the switch: held requests are writes stopped, so never long. */
export function parseHoldTimeout(value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 1 || value > maxHoldTimeoutMs) {
    throw new InvalidRequestError(
      `options.timeoutMs: must be a whole number of milliseconds between 1 and ${maxHoldTimeoutMs}, got ${value}`,
    );
  }
  return value;
}

/** The folder of a generated proxy config: its paths end up unquoted in the config. */
export function checkConfigDir(dir: string, proxy: string): void {
  if (!/^\/[\w./-]+$/.test(dir)) {
    const allowed = 'letters, digits, "_", ".", "-" and "/"';
    throw new InvalidRequestError(`${proxy} dir: must be an absolute path of ${allowed}, got ${JSON.stringify(dir)}`);
  }
}

function checkReplicaCount(target: SlotTarget, capabilities: DataPlaneCapabilities) {
  if (target.replicas.length > capabilities.maxReplicas) {
    const { maxReplicas } = capabilities;
    const got = target.replicas.length;
    throw new UnsupportedError(`target.replicas: this data plane serves at most ${maxReplicas} replica(s) per target, got ${got}`);
  }
}
