/** The data plane an environment's deployments drive, as its config says (`dataPlane`, the built-in router by default). */
import { durationMs } from '../../config/duration.js';
import type { CutoverConfig, EnvironmentConfig } from '../../config/schema.js';
import { routerAccess } from '../router/access.js';
import { createBuiltinDataPlane } from './builtin.js';
import { createHaproxyDataPlane } from './haproxy/adapter.js';
import type { HaproxySetup } from './haproxy/config.js';
import { createNginxDataPlane } from './nginx/adapter.js';
import type { NginxSetup } from './nginx/config.js';
import type { DataPlane, DataPlaneSite } from './port.js';

/**
 * The adapter of the environment. HAProxy's runtime API socket and nginx's files are local: the worker driving them
 * runs on the proxy's machine. The built-in router's admin secret is read from `processEnv`, never from the config.
 */
export function dataPlaneFor(config: CutoverConfig, environment: string, processEnv: NodeJS.ProcessEnv = process.env): DataPlane {
  const env = environmentOf(config, environment);
  const plane = env.dataPlane;
  switch (plane.adapter) {
    case 'builtin':
      return createBuiltinDataPlane(routerAccess(config, environment, processEnv));
    case 'haproxy':
      return createHaproxyDataPlane({ dir: plane.dir, sites: env.sites.map((s) => s.name), serverSlots: plane.serverSlots });
    case 'nginx':
      return createNginxDataPlane({ ...nginxSetup(env), binary: plane.binary, reloadTimeoutMs: durationMs(plane.reloadTimeout) });
  }
}

/** What writeHaproxyConfig takes for the environment: listeners on the sites' publicPort / previewPort at router.listenHost. */
export function haproxySetup(env: EnvironmentConfig): HaproxySetup {
  const plane = env.dataPlane;
  if (plane.adapter !== 'haproxy') throw new Error(`dataPlane.adapter is ${plane.adapter}, not haproxy`);
  const { dir, serverSlots, threads, maxconn } = plane;
  return { dir, sites: sitesOf(env), listenHost: env.router.listenHost, serverSlots, threads, maxconn };
}

/** What writeNginxConfig (and the adapter, which rewrites the site files) takes for the environment. */
export function nginxSetup(env: EnvironmentConfig): NginxSetup {
  const plane = env.dataPlane;
  if (plane.adapter !== 'nginx') throw new Error(`dataPlane.adapter is ${plane.adapter}, not nginx`);
  const { dir, workerProcesses, workerConnections, clientKeepAliveSeconds } = plane;
  return { dir, sites: sitesOf(env), listenHost: env.router.listenHost, workerProcesses, workerConnections, clientKeepAliveSeconds };
}

/** The listeners siteUrls (src/config/addresses.ts) prints: the same ports whichever proxy binds them. */
function sitesOf(env: EnvironmentConfig): DataPlaneSite[] {
  return env.sites.map(({ name, publicPort, previewPort }) => ({ name, publicPort, previewPort }));
}

export function environmentOf(config: CutoverConfig, environment: string): EnvironmentConfig {
  const env = config.environments[environment];
  if (!env) throw new Error(`unknown environment "${environment}"; the config has: ${Object.keys(config.environments).join(', ')}`);
  return env;
}
