/** The API process: Hono on @hono/node-server, in front of Temporal. */
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { fileURLToPath } from 'node:url';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { onShutdownSignal } from '../devtools/shutdown.js';
import { createLogger } from '../logging/logger.js';
import { createApp } from './app.js';
import { createApiDeps } from './deps.js';

export async function startApi(config: LoadedConfig, options: { port?: number } = {}) {
  // Lazy connection: the API starts (and reports Temporal as unreachable in /health) even when Temporal is down.
  const connection = Connection.lazy({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const app = createApp(createApiDeps(config, client));
  const server: ServerType = await new Promise((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: config.api.host, port: options.port ?? config.api.port }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.api.port;
  return {
    url: `http://${config.api.host}:${port}`,
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
  log.info({ url: api.url, auth: config.auth ? 'enabled' : 'disabled' }, 'API listening');
  if (!config.auth) log.warn('auth is disabled (no auth section in the configuration): anyone who reaches the API may deploy; for local development only');
  onShutdownSignal(async () => {
    log.info('API shutting down');
    await api.close();
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error) => {
    console.error(String(error instanceof Error ? error.message : error));
    process.exit(1);
  });
}
