import type { TestProject } from 'vitest/node';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startPostgresCluster, type PostgresCluster } from '../../src/devtools/postgres-cluster.js';
import { temporalCliPath } from '../../temporal/dev-server.js';
import { cutoverSearchAttributes } from '../../src/workflows/search-attributes.js';

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

/** One real Temporal dev server and one throwaway PostgreSQL cluster, shared by the whole run. */
export async function setup(project: TestProject) {
  const cli = temporalCliPath();
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
  ]);
  project.provide('temporalAddress', temporal.address);
  project.provide('temporalCli', cli);
  project.provide('pgAdminUrl', postgres.adminUrl);
  project.provide('pgPort', postgres.port);
  project.provide('pgBinDir', postgres.binDir);
}

export async function teardown() {
  await Promise.allSettled([temporal?.teardown(), postgres?.stop()]);
}
