/** Runs the real workflow code on the run's Temporal server against a fake platform (mocked activities). */
import { Client, Connection } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { heartbeatInterceptors } from '../../src/temporal/activity-heartbeats.js';
import { createFakePlatform, type FakeOptions } from './fake-platform.js';

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

export async function startHarness(options: FakeOptions = {}) {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} } as never });
  const id = randomBytes(3).toString('hex');
  const environment = `w${id}`;
  const taskQueue = `wf-${id}`;
  const fake = createFakePlatform(environment, `wf-host-${id}`, options);
  const address = inject('temporalAddress');
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const workflowBundle = await bundle;
  const interceptors = { activity: heartbeatInterceptors() };
  const workers = await Promise.all([
    Worker.create({
      connection,
      taskQueue,
      workflowBundle,
      activities: fake.activities,
      interceptors,
      stickyQueueScheduleToStartTimeout: '3s',
    }),
    ...fake.hostAgents.map((agent) =>
      Worker.create({ connection, taskQueue: agent.taskQueue, activities: agent.activities, interceptors }),
    ),
  ]);
  const runs = workers.map((w) => w.run());
  return {
    fake,
    client,
    environment,
    taskQueue,
    async close() {
      for (const w of workers) w.shutdown();
      await Promise.allSettled(runs);
      await connection.close();
      await client.connection.close();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startHarness>>;
