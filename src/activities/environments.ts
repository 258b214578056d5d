import type { LoadedConfig } from '../config/load.js';
import { durationMs } from '../config/duration.js';
import type { EnvironmentConfig } from '../config/schema.js';
import { hostTaskQueue } from '../platform/agent/contract.js';
import type { RouterAccess } from '../platform/router/client.js';
import { invalidInput } from './failures.js';
import type { EnvironmentPlan } from './contract.js';
import { reachableHost, siteUrls } from '../config/addresses.js';

export function environmentConfig(config: LoadedConfig, environment: string): EnvironmentConfig {
  const env = config.environments[environment];
  if (!env)
    throw invalidInput(`unknown environment "${environment}"; configured: ${Object.keys(config.environments).join(', ') || 'none'}`);
  return env;
}

/** The admin API of the router of the environment's host (one router serves every environment of a host). */
export function routerUrl(env: EnvironmentConfig): string {
  return `http://${reachableHost(env.router.adminHost)}:${env.router.adminPort}`;
}

/** The environment on its host's router admin API, with its secret read from this process's environment (never from the config). */
export function routerAccess(config: LoadedConfig, environment: string, processEnv: NodeJS.ProcessEnv): RouterAccess {
  const env = environmentConfig(config, environment);
  return { url: routerUrl(env), environment, token: processEnv[env.router.adminTokenEnv], tokenEnv: env.router.adminTokenEnv };
}

/** What the workflow needs of an environment's configuration: names and shapes, never secrets. */
export function planFor(config: LoadedConfig, environment: string): EnvironmentPlan {
  const env = environmentConfig(config, environment);
  return {
    name: environment,
    host: env.host,
    hostTaskQueue: hostTaskQueue(env.host),
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
  };
}
