/** Cutover's worker section (cutover.yaml `worker:`) as Temporal worker options; what is absent keeps the SDK's default. */
import type { WorkerOptions } from '@temporalio/worker';
import type { WorkerConfig } from '../config/schema.js';

type Tuning = Pick<WorkerOptions, 'maxConcurrentActivityTaskExecutions' | 'maxConcurrentWorkflowTaskExecutions' | 'maxCachedWorkflows' | 'shutdownGraceTime'>;

export function workerTuning(config: WorkerConfig): Tuning {
  const tuning: Tuning = { shutdownGraceTime: config.shutdownGraceTime };
  if (config.maxConcurrentActivityTaskExecutions !== undefined) tuning.maxConcurrentActivityTaskExecutions = config.maxConcurrentActivityTaskExecutions;
  if (config.maxConcurrentWorkflowTaskExecutions !== undefined) tuning.maxConcurrentWorkflowTaskExecutions = config.maxConcurrentWorkflowTaskExecutions;
  if (config.maxCachedWorkflows !== undefined) tuning.maxCachedWorkflows = config.maxCachedWorkflows;
  return tuning;
}
