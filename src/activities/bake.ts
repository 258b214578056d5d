/**
 * The bake's activity: what the new live slot of each site served over one interval, as the router counted it. It runs
 * on the host agent of the environment's host, beside the router whose admin address answers on loopback.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { CutoverConfig } from '../config/schema.js';
import type { BakeActivities } from '../workflows/bake-definitions.js';
import { readTraffic, statsBetween, sumTraffic } from './router-traffic.js';

export interface BakeDeps {
  config: CutoverConfig;
  host: string;
}

export function createBakeActivities({ config, host }: BakeDeps): BakeActivities {
  return {
    async measureLiveTraffic({ environment, slots, intervalMs }) {
      const env = config.environments[environment];
      if (!env)
        throw ApplicationFailure.nonRetryable(`Unknown environment ${JSON.stringify(environment)} on host ${host}`, 'invalid-input');
      const signal = currentSignal();
      const live = (site: string, slotId: string) => (s: { site: string; channel: string; slot: string }) =>
        s.site === site && s.channel === 'live' && s.slot === slotId;
      const before = await readTraffic(env, environment, signal);
      // Heartbeats while waiting, so a lost agent is noticed within the heartbeat timeout.
      for (let waited = 0; waited < intervalMs; waited += 1000) {
        await sleep(Math.min(1000, intervalMs - waited), undefined, { signal });
        heartbeat();
      }
      const after = await readTraffic(env, environment, signal);
      return slots.map(({ site, slotId }) => ({
        site,
        slotId,
        ...statsBetween(sumTraffic(before, live(site, slotId)), sumTraffic(after, live(site, slotId))),
      }));
    },
  };
}

function currentSignal(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

function heartbeat(): void {
  try {
    Context.current().heartbeat();
  } catch {
    // Called directly (tests): nobody to tell.
  }
}
