/**
 * The host agent process: a Temporal worker on cutover-host-<host> that runs the host's slots.
 * Slots are detached process groups: stopping or killing the agent never stops a slot.
 */
import { runsSlotsOn, slotAddressOf } from '../../config/addresses.js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, NativeConnection, Worker, type LogEntry, type LogLevel } from '@temporalio/worker';
import { loopbackAddressSchema, type CutoverConfig } from '../../config/schema.js';
import { loadConfig } from '../../config/load.js';
import { createLogger, type Logger } from '../../logging/logger.js';
import { createPackageStore } from '../../packages/store.js';
import { createHostActivities, slotsDirOf } from './activities.js';
import { createAnalysisActivities } from '../../activities/analysis.js';
import { createBakeActivities } from '../../activities/bake.js';
import { hostTaskQueue } from './contract.js';
import { createSlotUsers } from './slot-user.js';
import { createSlotSupervisor } from './slots.js';
import { crashPointInterceptors } from '../../temporal/crash-points.js';
import { heartbeatInterceptors } from '../../temporal/activity-heartbeats.js';
import { connectWorkerConnection, resolveTemporalSettings } from '../../temporal/connection.js';
import { installSdkRuntime } from '../../temporal/sdk-metrics.js';
// The Cutover checkout or image this runs from: slots find its node_modules (pg, mssql) through NODE_PATH.
import { cutoverRoot } from '../../installation.js';
import { exitWithUsage, runAsProgram } from '../../process/entry-point.js';
import { onShutdownSignal } from '../../process/shutdown.js';

export interface StartHostAgentOptions {
  config: CutoverConfig;
  host: string;
  /** Reused and left open when given; opened and closed by the agent otherwise. */
  connection?: NativeConnection;
  logger?: Logger;
  /** Where connection strings are read from; process.env by default. */
  env?: NodeJS.ProcessEnv;
}

export interface HostAgent {
  worker: Worker;
  /** Resolves when the worker has shut down. */
  run(): Promise<void>;
  /** Stops taking activities; slots keep running. */
  shutdown(): void;
}

export async function startHostAgent(options: StartHostAgentOptions): Promise<HostAgent> {
  const { config, host } = options;
  const logger = (options.logger ?? createLogger('host-agent')).child({ host });
  const stateDir = config.stateDir;
  const supervisor = createSlotSupervisor({ slotsDir: slotsDirOf(stateDir, host), address: slotAddressOf(config, host) });

  // Re-adoption: records on disk are the truth; each slot's state is checked against its live process.
  const adopted = await supervisor.list();
  for (const slot of adopted)
    logger.info(
      { slotId: slot.slotId, pid: slot.pid, port: slot.port, state: slot.state },
      slot.state === 'running' ? 'adopted running slot' : 'slot has exited',
    );

  warnAboutSharedLogins(config, host, logger);
  const activities = createHostActivities({
    config,
    host,
    store: createPackageStore(join(stateDir, 'packages')),
    stateDir,
    cutoverRoot,
    env: options.env,
    supervisor,
    slotUsers: createSlotUsers({ host, warn: (message) => logger.warn(message) }),
  });
  const temporal = resolveTemporalSettings(config.temporal, options.env ?? process.env);
  for (const note of temporal.target.notes) logger.warn(note);
  const connection = options.connection ?? (await connectWorkerConnection(temporal));
  const taskQueue = hostTaskQueue(host);
  let worker: Worker;
  try {
    worker = await Worker.create({
      connection,
      namespace: temporal.namespace,
      taskQueue,
      // The analysis runs here too: the preview addresses answer on this host.
      activities: { ...activities, ...createAnalysisActivities({ config, host }), ...createBakeActivities({ config, host }) },
      identity: `cutover-host-agent ${host} pid ${process.pid}`,
      interceptors: { activity: [...crashPointInterceptors(process.env.CUTOVER_CRASH_AT), ...heartbeatInterceptors()] },
      // In-flight warmups are cancelled after this; the workflow retries them on the next agent.
      shutdownGraceTime: '5s',
    });
  } catch (error) {
    if (!options.connection) await connection.close();
    throw error;
  }

  return {
    worker,
    async run() {
      logger.info(
        { taskQueue, temporal, running: adopted.filter((s) => s.state === 'running').length },
        `host agent running: Temporal at ${temporal.describe()}`,
      );
      try {
        await worker.run();
      } finally {
        if (!options.connection) await connection.close();
        logger.info('host agent stopped; slots keep running');
      }
    },
    shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
    },
  };
}

/** Once per start: a database without an application login gives its slots Cutover's own login (today's behaviour, unsafe). */
function warnAboutSharedLogins(config: CutoverConfig, host: string, logger: Logger) {
  for (const [name, environment] of Object.entries(config.environments)) {
    if (!runsSlotsOn(config, environment, host)) continue;
    for (const db of environment.databases.filter((d) => !d.appConnectionEnv)) {
      logger.warn(
        { environment: name, database: db.name },
        `database ${db.name} of environment ${name} has no appConnectionEnv: its slots get Cutover's own login (${db.connectionEnv}), ` +
          'which may create and drop databases; give the application a login of its own (docs/security.md)',
      );
    }
  }
}

const usage = 'usage: tsx src/platform/agent/main.ts --host <name> [--config <path>] [--metrics-address 127.0.0.1:<port>]';

/** The SDK's own logs go through pino too, warnings and up: one JSON stream per process; its metrics on `metricsAddress` if given. */
function installAgentRuntime(logger: Logger, metricsAddress: string | undefined) {
  const levels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
    TRACE: 'trace',
    DEBUG: 'debug',
    INFO: 'info',
    WARN: 'warn',
    ERROR: 'error',
  };
  // The agent runs activities only, by design: the SDK's note that it polls no workflow tasks is no warning here.
  const level = (entry: LogEntry) => (entry.message.startsWith('No workflows registered') ? 'debug' : levels[entry.level]);
  const sdkLogger = new DefaultLogger('WARN', (entry) => logger[level(entry)]({ sdk: entry.meta }, entry.message));
  installSdkRuntime({ logger: sdkLogger }, metricsAddress, '--metrics-address');
}

async function main() {
  const logger = createLogger('host-agent');
  let args;
  try {
    const options = { host: { type: 'string' }, config: { type: 'string', short: 'c' }, 'metrics-address': { type: 'string' } } as const;
    args = parseArgs({ options, strict: true }).values;
  } catch (error) {
    exitWithUsage(logger, (error as Error).message, usage);
  }
  if (!args.host) exitWithUsage(logger, '--host is required', usage);
  const metricsAddress = loopbackAddressSchema.optional().safeParse(args['metrics-address']);
  if (!metricsAddress.success) exitWithUsage(logger, `--metrics-address: ${metricsAddress.error.issues[0]!.message}`, usage);
  try {
    installAgentRuntime(logger, metricsAddress.data);
  } catch (error) {
    logger.fatal(`host agent did not start: ${(error as Error).message}`);
    process.exit(1);
  }

  let agent: HostAgent;
  try {
    agent = await startHostAgent({ config: loadConfig(args.config), host: args.host, logger });
  } catch (error) {
    logger.fatal({ err: error }, `host agent did not start: ${(error as Error).message}`);
    process.exit(1);
  }
  const running = agent;
  const stopped = running.run();
  // The agent stops taking activities; its slots are detached and keep serving.
  onShutdownSignal(async (signal) => {
    logger.info({ signal }, 'shutting down the host agent');
    running.shutdown();
    await stopped;
  }, logger);
  try {
    await stopped;
  } catch (error) {
    logger.fatal({ err: error }, `host agent failed: ${(error as Error).message}`);
    process.exit(1);
  }
}

// Run only as a program; tests import startHostAgent without starting anything.
runAsProgram(import.meta.url, main);
