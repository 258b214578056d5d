import type { LoadedConfig } from '../config/load.js';
import { durationMs } from '../config/duration.js';
import type { EnvironmentConfig } from '../config/schema.js';
import { hostTaskQueue } from '../platform/agent/contract.js';
import type { RouterAccess } from '../platform/router/client.js';
import { invalidInput } from './failures.js';
import type { EnvironmentPlan } from './contract.js';

export function environmentConfig(config: LoadedConfig, environment: string): EnvironmentConfig {
  const env = config.environments[environment];
  if (!env) throw invalidInput(`unknown environment "${environment}"; configured: ${Object.keys(config.environments).join(', ') || 'none'}`);
  return env;
}

export function routerUrl(env: EnvironmentConfig): string {
  return `http://${hostForUrl(env.router.adminHost)}:${env.router.adminPort}`;
}

/** The router's admin API and its secret, read from this process's environment (never from the config). */
export function routerAccess(env: EnvironmentConfig, processEnv: NodeJS.ProcessEnv): RouterAccess {
  return { url: routerUrl(env), token: processEnv[env.router.adminTokenEnv], tokenEnv: env.router.adminTokenEnv };
}

function hostForUrl(host: string) {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** What the workflow needs of an environment's configuration: names and shapes, never secrets. */
export function planFor(config: LoadedConfig, environment: string): EnvironmentPlan {
  const env = environmentConfig(config, environment);
  const host = hostForUrl(env.router.listenHost);
  return {
    name: environment,
    host: env.host,
    hostTaskQueue: hostTaskQueue(env.host),
    verificationTimeoutMs: durationMs(env.verificationTimeout),
    slack: config.slack && env.slack ? { reminderIntervalMs: durationMs(config.slack.reminderInterval) } : null,
    timeouts: { stepMs: durationMs(env.timeouts.step), heartbeatMs: durationMs(env.timeouts.heartbeat), databaseWorkMs: durationMs(env.timeouts.databaseWork) },
    sites: env.sites.map((site) => ({
      name: site.name,
      role: site.role,
      ...(site.warmupPath ? { warmupPath: site.warmupPath } : {}),
      warmupTimeoutMs: durationMs(site.warmupTimeout),
      publicUrl: `http://${host}:${site.publicPort}/`,
      previewUrl: `http://${host}:${site.previewPort}/`,
    })),
    databases: env.databases.map((db) => ({ name: db.name, engine: db.engine })),
  };
}
