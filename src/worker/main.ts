/** The Temporal worker for Cutover's task queue: runs deployment workflows and their control activities. */
import { NativeConnection, Worker } from '@temporalio/worker';
import { join } from 'node:path';
import { createActivities } from '../activities/index.js';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { createPackageStore } from '../packages/store.js';
import { createLogger } from '../logging/logger.js';
import { onShutdownSignal } from '../process/shutdown.js';
import { runAsProgram } from '../process/entry-point.js';
import { crashPointInterceptors } from '../temporal/crash-points.js';
import { heartbeatInterceptors } from '../temporal/activity-heartbeats.js';
import { createSlackActivities } from '../slack/activities.js';
import { describeWorkflowCode, workflowCode } from './workflow-code.js';
import { connectWorkerConnection, resolveTemporalSettings, type TemporalSettings } from '../temporal/connection.js';
import { workerTuning } from '../temporal/worker-tuning.js';
import { installSdkRuntime } from '../temporal/sdk-metrics.js';

export interface CutoverWorker {
  worker: Worker;
  /** Which workflow code it loaded: a prebuilt bundle, or the workflows bundled at start. */
  workflows: string;
  /** Where and how it reaches Temporal (safe to log). */
  temporal: TemporalSettings;
  run(): Promise<void>;
  shutdown(): Promise<void>;
}

export async function startWorker(options: {
  config: LoadedConfig;
  connection?: NativeConnection;
  taskQueue?: string;
  env?: NodeJS.ProcessEnv;
}): Promise<CutoverWorker> {
  const { config } = options;
  const temporal = resolveTemporalSettings(config.temporal, options.env ?? process.env);
  const connection = options.connection ?? (await connectWorkerConnection(temporal));
  const store = createPackageStore(join(config.stateDir, 'packages'));
  const code = workflowCode();
  const worker = await Worker.create({
    connection,
    namespace: temporal.namespace,
    ...workerTuning(config.worker),
    taskQueue: options.taskQueue ?? config.temporal.taskQueue,
    ...code,
    activities: { ...createActivities({ config, store, env: options.env }), ...createSlackActivities({ config, env: options.env }) },
    interceptors: { activity: [...crashPointInterceptors(process.env.CUTOVER_CRASH_AT), ...heartbeatInterceptors()] },
    // After a worker dies, its workflows move to a live worker after this long (the default is 10 s).
    stickyQueueScheduleToStartTimeout: '3s',
  });
  let running: Promise<void> | undefined;
  return {
    worker,
    workflows: describeWorkflowCode(code),
    temporal,
    run: () => (running ??= worker.run()),
    async shutdown() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      if (!options.connection) await connection.close();
    },
  };
}

async function main() {
  const log = createLogger('cutover-worker');
  const config = loadConfig(process.argv.find((a, i) => process.argv[i - 1] === '--config'));
  // Before the first connection: the SDK's runtime is made once per process, with its metrics endpoint or without.
  if (config.worker.metricsAddress) installSdkRuntime({}, config.worker.metricsAddress, 'worker.metricsAddress');
  const w = await startWorker({ config });
  log.info(
    { taskQueue: config.temporal.taskQueue, temporal: w.temporal, workflows: w.workflows },
    `worker started: Temporal at ${w.temporal.describe()}`,
  );
  if (config.worker.metricsAddress) log.info(`Temporal SDK metrics on http://${config.worker.metricsAddress}/metrics`);
  for (const note of w.temporal.target.notes) log.warn(note);
  onShutdownSignal(async () => {
    log.info('worker shutting down');
    await w.shutdown();
  });
  await w.run();
  log.info('worker stopped');
}

runAsProgram(import.meta.url, main);
