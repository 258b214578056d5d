/**
 * Container healthchecks of `docker compose` (on the image's compiled build; see bin/cutover-modules.js): exits 0
 * when the named part of Cutover is serving, 1 otherwise.
 *   worker    a worker polls Cutover's task queue for workflows
 *   platform  each environment's router answers on its admin port and a host agent polls the host's task queue
 */
/* global fetch, AbortSignal */
import { importCutover } from '../../bin/cutover-modules.js';

const { loadConfig } = await importCutover('config/load');
const { hostTaskQueue } = await importCutover('platform/agent/contract');
const { lazyClient } = await importCutover('temporal/connection');

/** temporal.api.enums.v1.TaskQueueType */
const TaskQueueType = { TASK_QUEUE_TYPE_WORKFLOW: 1, TASK_QUEUE_TYPE_ACTIVITY: 2 };

async function pollers(client, namespace, name, type) {
  const answer = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name }, taskQueueType: type });
  return answer.pollers?.length ?? 0;
}

async function healthy(part) {
  const config = loadConfig();
  // The same Temporal settings as Cutover's processes: cutover.yaml, the TEMPORAL_* variables, a profile.
  const { settings, connection, client } = lazyClient(config.temporal, process.env, { connectTimeout: '3s' });
  const namespace = settings.namespace;
  try {
    if (part === 'worker') return (await pollers(client, namespace, config.temporal.taskQueue, TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW)) > 0;
    if (part === 'platform') {
      for (const environment of Object.values(config.environments)) {
        const router = await fetch(`http://127.0.0.1:${environment.router.adminPort}/healthz`, { signal: AbortSignal.timeout(3000) });
        if (!router.ok) return false;
        if ((await pollers(client, namespace, hostTaskQueue(environment.host), TaskQueueType.TASK_QUEUE_TYPE_ACTIVITY)) === 0) return false;
      }
      return true;
    }
    throw new Error(`unknown part ${JSON.stringify(part)}: expected worker or platform`);
  } finally {
    await connection.close();
  }
}

healthy(process.argv[2]).then(
  (ok) => process.exit(ok ? 0 : 1),
  (error) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);
