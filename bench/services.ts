/** A benchmark's own real Temporal dev server and throwaway PostgreSQL cluster (no vitest run to provide them). */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { startPostgresCluster } from '../src/devtools/postgres-cluster.js';
import { cutoverSearchAttributes } from '../src/workflows/search-attributes.js';
import { temporalCliPath } from '../temporal/dev-server.js';
import type { StackServices } from '../test/support/stack.js';

export async function startBenchServices(): Promise<{ services: StackServices; stop(): Promise<void> }> {
  const cli = temporalCliPath();
  const [temporal, postgres] = await Promise.all([
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
  return {
    services: { temporalAddress: temporal.address, temporalCli: cli, pgAdminUrl: postgres.adminUrl, pgBinDir: postgres.binDir },
    async stop() {
      await Promise.allSettled([temporal.teardown(), postgres.stop()]);
    },
  };
}

/** Prints rows as an aligned two-column table under a title. */
export function printTable(title: string, rows: Array<[string, string]>) {
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n${title}\n`);
  for (const [k, v] of rows) console.log(`  ${k.padEnd(width)}  ${v}`);
  console.log('');
}
