/** Test-only workflow: calls one host activity on a host's task queue, the way the deployment workflow does. */
import { proxyActivities } from '@temporalio/workflow';
import type { HostActivities } from '../../src/platform/agent/contract.js';

export async function callHostActivity(taskQueue: string, activity: keyof HostActivities, input: unknown): Promise<unknown> {
  const host = proxyActivities<HostActivities>({
    taskQueue,
    startToCloseTimeout: '1 minute',
    heartbeatTimeout: '20s',
    retry: { maximumAttempts: 1 },
  });
  return (host[activity] as (input: unknown) => Promise<unknown>)(input);
}
