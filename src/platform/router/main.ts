import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { collectDefaultMetrics } from 'prom-client';
import { loadConfig } from '../../config/load.js';
import { startRouter } from './router.js';
import { exitWithUsage, runAsProgram } from '../../process/entry-point.js';
import { onShutdownSignal } from '../../process/shutdown.js';

export { startRouter, type RunningEnvironment, type RunningRouter, type StartRouterOptions } from './router.js';

const usage = 'usage: node src/platform/router/main.ts --host <name> [--config <path>] (tsx, or dist/ once built)';

/**
 * The router process of one host, serving every environment of the config on that host: depends on the config file
 * only, so it keeps serving when the worker, the API or Temporal die.
 */
async function main() {
  const logger = pino({ base: { component: 'router' } });
  let args;
  try {
    args = parseArgs({ options: { host: { type: 'string' }, config: { type: 'string', short: 'c' } }, strict: true }).values;
  } catch (error) {
    exitWithUsage(logger, (error as Error).message, usage);
  }
  if (!args.host) exitWithUsage(logger, '--host is required', usage);

  let router;
  try {
    router = await startRouter({ config: loadConfig(args.config), host: args.host, logger });
  } catch (error) {
    logger.fatal({ err: error }, `router did not start: ${(error as Error).message}`);
    process.exit(1);
  }

  const running = router;
  // The process's CPU, memory and event-loop lag beside its request counts on /metrics (a program only: once per process).
  collectDefaultMetrics({ register: running.metrics.registry });
  // Requests in flight finish first; a second signal means "now": do not wait for slow requests any longer.
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'shutting down');
    await running.close();
  }, logger);
}

// Run only as a program; tests and the stack import startRouter from here without starting anything.
runAsProgram(import.meta.url, main);
