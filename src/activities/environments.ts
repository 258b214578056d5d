import type { LoadedConfig } from '../config/load.js';
import { durationMs } from '../config/duration.js';
import type { EnvironmentConfig } from '../config/schema.js';
import { hostTaskQueue } from '../platform/agent/contract.js';
import { invalidInput } from './failures.js';
import type { EnvironmentPlan } from './contract.js';
import { siteUrls, slotHostsOf } from '../config/addresses.js';
import { analysisSpec } from '../config/analysis-schema.js';
import { bakeSpec } from '../config/bake-schema.js';

export function environmentConfig(config: LoadedConfig, environment: string): EnvironmentConfig {
  const env = config.environments[environment];
  if (!env)
    throw invalidInput(`unknown environment "${environment}"; configured: ${Object.keys(config.environments).join(', ') || 'none'}`);
  return env;
}

/** What the workflow needs of an environment's configuration: names and shapes, never secrets. */
export function planFor(config: LoadedConfig, environment: string): EnvironmentPlan {
  const env = environmentConfig(config, environment);
  return {
    name: environment,
    host: env.host,
    hostTaskQueue: hostTaskQueue(env.host),
    hosts: slotHostsOf(config, env).map((h) => ({ ...h, taskQueue: hostTaskQueue(h.name) })),
    verificationTimeoutMs: durationMs(env.verificationTimeout),
    slack: config.slack && env.slack ? { reminderIntervalMs: durationMs(config.slack.reminderInterval) } : null,
    timeouts: {
      stepMs: durationMs(env.timeouts.step),
      heartbeatMs: durationMs(env.timeouts.heartbeat),
      databaseWorkMs: durationMs(env.timeouts.databaseWork),
    },
    sites: env.sites.map((site) => ({
      name: site.name,
      role: site.role,
      ...(site.warmupPath ? { warmupPath: site.warmupPath } : {}),
      warmupTimeoutMs: durationMs(site.warmupTimeout),
      ...siteUrls(env, site),
    })),
    databases: env.databases.map((db) => ({ name: db.name, engine: db.engine })),
    analysis: env.analysis ? analysisSpec(env.analysis) : null,
    bake: env.bake ? bakeSpec(env.bake) : null,
  };
}
