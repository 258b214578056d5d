/** cutover.yaml's worker section reaches Cutover's real worker; without it, the defaults docs/operations.md explains. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startWorker, type CutoverWorker } from '../../src/worker/main.js';

let dir: string;
const started: CutoverWorker[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-worker-settings-'));
});

afterAll(async () => {
  for (const worker of started) await worker.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

async function workerWith(workerSection: string): Promise<CutoverWorker> {
  const yaml = `stateDir: ${dir}
temporal: { address: "${inject('temporalAddress')}", taskQueue: worker-settings-${randomBytes(3).toString('hex')} }
${workerSection}
environments: {}
`;
  const worker = await startWorker({ config: parseConfig(yaml, join(dir, 'cutover.yaml')) });
  started.push(worker);
  void worker.run();
  return worker;
}

test('concurrency limits, sticky cache size and shutdown grace time from the worker section', async () => {
  const worker = await workerWith(
    'worker: { maxConcurrentActivityTaskExecutions: 7, maxConcurrentWorkflowTaskExecutions: 5, maxCachedWorkflows: 50, shutdownGraceTime: 12s }',
  );
  const { options } = worker.worker;
  expect(options.tuner.activityTaskSlotSupplier).toMatchObject({ type: 'fixed-size', numSlots: 7 });
  expect(options.tuner.workflowTaskSlotSupplier).toMatchObject({ type: 'fixed-size', numSlots: 5 });
  expect(options.maxCachedWorkflows).toBe(50);
  expect(options.shutdownGraceTimeMs).toBe(12_000);
}, 180_000);

test('without a worker section: the SDK’s limits (100 activities, 40 workflow tasks) and a 5 s grace', async () => {
  const { options } = (await workerWith('')).worker;
  expect(options.tuner.activityTaskSlotSupplier).toMatchObject({ numSlots: 100 });
  expect(options.tuner.workflowTaskSlotSupplier).toMatchObject({ numSlots: 40 });
  expect(options.shutdownGraceTimeMs).toBe(5_000);
}, 180_000);
