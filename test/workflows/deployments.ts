/** Starting and watching one deployment in the workflow tests, so each test file says only what it decides. */
import type { PackageRef } from '../../src/packages/manifest.js';
import { completeUpdate, statusQuery, type DeploymentRequest, type DeploymentStatus } from '../../src/workflows/definitions.js';
import { pkg } from './fake-platform.js';
import type { Harness } from './harness.js';

/** The version live before the deployment, and the one it deploys. */
export const v1 = pkg('1.0.0');
export const v2 = pkg('2.0.0');

/** A request for `id` in the harness's environment: v2 in readonly mode unless `extra` says otherwise. */
export function deploymentRequest(harness: Harness, id: string, extra: Partial<DeploymentRequest> = {}): DeploymentRequest {
  const ref = extra.package ?? v2;
  harness.fake.addPackage(ref);
  return { deploymentId: `${harness.environment}-${id}`, environment: harness.environment, package: ref, mode: 'readonly', ...extra };
}

/** Starts the deployment workflow directly (not through the environment workflow). */
export function startDeployment(harness: Harness, id: string, extra: Partial<DeploymentRequest> = {}) {
  const req = deploymentRequest(harness, id, extra);
  return harness.client.workflow.start('deploymentWorkflow', { taskQueue: harness.taskQueue, workflowId: req.deploymentId, args: [req] });
}

export type DeploymentHandle = Awaited<ReturnType<typeof startDeployment>>;
type StatusSource = { query: (q: typeof statusQuery) => Promise<DeploymentStatus> };

/** Polls the status query until `ok` holds; the error names what was awaited and the last phase and analysis. */
export async function waitForStatus(handle: StatusSource, what: string, ok: (s: DeploymentStatus) => boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await handle.query(statusQuery).catch(() => null);
    if (status && ok(status)) return status;
    if (Date.now() > deadline)
      throw new Error(`${what} not reached; last ${JSON.stringify(status?.phase)} ${JSON.stringify(status?.analysis)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export const waitForPhase = (handle: StatusSource, phase: string, timeoutMs = 20_000) =>
  waitForStatus(handle, `phase ${phase}`, (s) => s.phase === phase, timeoutMs);

/** Starts the deployment, waits for verification and Completes it (as ana). */
export async function startCompleted(harness: Harness, id: string, extra: Partial<DeploymentRequest> = {}) {
  const handle = await startDeployment(harness, id, extra);
  await waitForPhase(handle, 'awaiting-verification');
  await handle.executeUpdate(completeUpdate, { args: [{ requestedBy: 'ana' }] });
  return handle;
}

/** The id of the web site's slot for `ref`: `original` on the original databases, `temporary` on the clone. */
export const webSlot = (harness: Harness, ref: PackageRef, databases: 'original' | 'temporary' = 'original') =>
  `${harness.environment}.web.${ref.sha256.slice(0, 12)}.${databases}`;
