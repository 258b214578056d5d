/** Cutover's worker section (cutover.yaml `worker:`) as Temporal worker options; what is absent keeps the SDK's default. */
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerConfig } from '../config/schema.js';

const limits = ['maxConcurrentActivityTaskExecutions', 'maxConcurrentWorkflowTaskExecutions', 'maxCachedWorkflows'] as const;

type Tuning = Pick<WorkerOptions, (typeof limits)[number] | 'shutdownGraceTime'>;

export function workerTuning(config: WorkerConfig): Tuning {
  const tuning: Tuning = { shutdownGraceTime: config.shutdownGraceTime };
  for (const limit of limits) if (config[limit] !== undefined) tuning[limit] = config[limit];
  return tuning;
}
