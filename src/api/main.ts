/** The API process: Hono on @hono/node-server, in front of Temporal. */
import { serve, type ServerType } from '@hono/node-server';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { onShutdownSignal } from '../process/shutdown.js';
import { runAsProgram } from '../process/entry-point.js';
import { createLogger } from '../logging/logger.js';
import { createApp } from './app.js';
import { ApiMetrics } from './metrics.js';
import { collectDefaultMetrics } from 'prom-client';
import { createApiDeps } from './deps.js';
import { assertSafeListenAddress } from './exposure.js';
import { explained, lazyClient } from '../temporal/connection.js';

export async function startApi(config: LoadedConfig, options: { port?: number; env?: NodeJS.ProcessEnv } = {}) {
  assertSafeListenAddress(config);
  // Lazy connection: the API starts (and reports Temporal as unreachable in /health) even when Temporal is down.
  // Connecting counts against the 3 s the service gives Temporal: a first call with Temporal down answers in time too.
  const { settings: temporal, connection, client } = lazyClient(config.temporal, options.env ?? process.env, { connectTimeout: '3s' });
  const deps = createApiDeps(config, client, options.env ?? process.env);
  // /health tells a refused connection with the setting to change (a missing client certificate, say).
  const probeTemporal = () => explained(temporal, deps.probes.temporal);
  const metrics = new ApiMetrics();
  const app = createApp({ ...deps, probes: { ...deps.probes, temporal: probeTemporal } }, { metrics });
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.api.host, port: options.port ?? config.api.port }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  return {
    url: `http://${config.api.host}:${port}`,
    temporal,
    probeTemporal,
    metrics,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await connection.close();
    },
  };
}

async function main() {
  const log = createLogger('cutover-api');
  const config = loadConfig(process.argv.find((a, i) => process.argv[i - 1] === '--config'));
  const api = await startApi(config);
  // The process's own CPU, memory and event-loop figures, beside its request metrics (as a program only: once per process).
  collectDefaultMetrics({ register: api.metrics.registry });
  log.info(
    { url: api.url, auth: config.auth ? 'enabled' : 'disabled', temporal: api.temporal },
    `API listening; Temporal at ${api.temporal.describe()}`,
  );
  for (const note of api.temporal.target.notes) log.warn(note);
  // Said at once in the log, not only at the first /health: the API keeps running and retries on each call.
  api.probeTemporal().catch((error: unknown) => log.error(error instanceof Error ? error.message : String(error)));
  if (!config.auth)
    log.warn('auth is disabled (no auth section in the configuration): anyone on this host may deploy; for development only');
  onShutdownSignal(async () => {
    log.info('API shutting down');
    await api.close();
  });
}

runAsProgram(import.meta.url, main);
