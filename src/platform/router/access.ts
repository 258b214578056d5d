/** How Cutover's processes reach an environment's router admin API: its host's address and the secret for it. */
import { reachableHost } from '../../config/addresses.js';
import type { CutoverConfig, EnvironmentConfig } from '../../config/schema.js';
import type { RouterAccess } from './client.js';

/** The admin API of the router of the environment's host (one router serves every environment of a host). */
export function routerUrl(env: EnvironmentConfig): string {
  return `http://${reachableHost(env.router.adminHost)}:${env.router.adminPort}`;
}

/** The environment on its host's router admin API, with its secret read from this process's environment (never from the config). */
export function routerAccess(config: CutoverConfig, environment: string, processEnv: NodeJS.ProcessEnv): RouterAccess {
  const env = config.environments[environment];
  if (!env) throw new Error(`unknown environment "${environment}"`);
  return { url: routerUrl(env), environment, token: processEnv[env.router.adminTokenEnv], tokenEnv: env.router.adminTokenEnv };
}
