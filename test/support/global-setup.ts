import type { TestProject } from 'vitest/node';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startPostgresCluster, type PostgresCluster } from '../../src/devtools/postgres-cluster.js';
import { temporalCliPath } from '../../temporal/dev-server.js';
import { cutoverSearchAttributes } from '../../src/workflows/search-attributes.js';
import { WORKFLOW_BUNDLE_ENV, writeWorkflowBundle } from '../../src/worker/workflow-code.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    temporalCli: string;
    pgAdminUrl: string;
    pgPort: number;
    pgBinDir: string;
  }
}

let temporal: TestWorkflowEnvironment | undefined;
let postgres: PostgresCluster | undefined;
let bundleDir: string | undefined;

/** One real Temporal dev server and one throwaway PostgreSQL cluster, shared by the whole run. */
export async function setup(project: TestProject) {
  const cli = temporalCliPath();
  bundleDir = mkdtempSync(join(tmpdir(), 'cutover-workflow-bundle-'));
  const workflowBundle = join(bundleDir, 'workflow-bundle.js');
  [temporal, postgres] = await Promise.all([
    TestWorkflowEnvironment.createLocal({
      server: {
        executable: { type: 'existing-path', path: cli },
        ip: '127.0.0.1',
        searchAttributes: cutoverSearchAttributes,
        extraArgs: ['--log-level', 'error'],
      },
    }),
    startPostgresCluster(),
    writeWorkflowBundle(workflowBundle),
  ]);
  // Once per run: the tests' workers (in process, or child processes, which inherit it) load it instead of bundling at each start.
  process.env[WORKFLOW_BUNDLE_ENV] = workflowBundle;
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCli', cli);
  project.provide('pgAdminUrl', postgres.adminUrl);
  project.provide('pgPort', postgres.port);
  project.provide('pgBinDir', postgres.binDir);
}

export async function teardown() {
  await Promise.allSettled([temporal?.teardown(), postgres?.stop()]);
  if (bundleDir) rmSync(bundleDir, { recursive: true, force: true });
}
