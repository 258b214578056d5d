/**
 * .github/workflows/ci.yml, which cannot run here: its shape. One job runs the whole suite as .ci/run does, with what
 * the suite needs installed; the other runs the SQL Server contract against mcr.microsoft.com/mssql/server as a
 * service container, with MSSQL_URL naming it, and fails when the contract was skipped.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, test } from 'vitest';
import type { DatabaseConfig } from '../../src/config/schema.js';
import { settingsOf } from '../../src/engines/sqlserver/connection-url.js';
import { readComposeFile, ROOT } from './compose-file.js';

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  'runs-on': string;
  container?: string;
  services?: Record<string, { image: string; env?: Record<string, string>; options?: string }>;
  env?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(readFileSync(join(ROOT, '.github/workflows/ci.yml'), 'utf8')) as Workflow;
const runs = (job: Job) => job.steps.map((step) => step.run ?? '').join('\n');

describe('.github/workflows/ci.yml', () => {
  test('runs on pushes and pull requests, with read-only repository rights', () => {
    expect(Object.keys(workflow.on)).toEqual(expect.arrayContaining(['push', 'pull_request']));
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  test('the suite job runs the README’s test command after setup, with what the suite needs installed', () => {
    const suite = workflow.jobs.suite!;
    // Node 20 on Debian 12, as the Dockerfile and this machine: PostgreSQL 15 is the configured default there.
    expect(suite.container).toMatch(/^node:20-bookworm/);
    const commands = runs(suite);
    expect(commands).toContain('bash scripts/setup.sh');
    expect(commands).toMatch(/^npm test$/m);
    for (const pkg of ['postgresql', 'haproxy', 'nginx-light', 'openssl'])
      expect(commands).toMatch(new RegExp(`apt-get install [^\\n]*\\b${pkg}\\b`));
    expect(suite.steps.some((step) => step.uses?.startsWith('actions/setup-go@'))).toBe(true);
  });

  test('the Temporal CLI it builds and caches is the one temporal/cli.sh builds', () => {
    const version = /^VERSION="(v[\d.]+)"/m.exec(readFileSync(join(ROOT, 'temporal/cli.sh'), 'utf8'))?.[1];
    expect(version).toBeDefined();
    expect(workflow.env?.TEMPORAL_CLI_VERSION).toBe(version);
    for (const job of Object.values(workflow.jobs)) {
      const cache = job.steps.find((step) => step.uses?.startsWith('actions/cache@') && String(step.with?.path).includes('temporal'));
      expect(cache?.with).toMatchObject({ path: `${workflow.env?.GOPATH}/bin/temporal` });
      expect(String(cache?.with?.key)).toContain('${{ env.TEMPORAL_CLI_VERSION }}');
    }
  });

  test('the SQL Server job: mssql/server as a service container, MSSQL_URL naming it, the contract run and required to have run', () => {
    const job = workflow.jobs.sqlserver!;
    const [name, service] = Object.entries(job.services ?? {})[0]!;
    // The same server image as the compose stack's.
    expect(service.image).toBe(readComposeFile().services.sqlserver!.image);
    expect(service.image).toMatch(/^mcr\.microsoft\.com\/mssql\/server:/);
    expect(service.env).toMatchObject({ ACCEPT_EULA: 'Y' });
    expect(service.options).toMatch(/--health-cmd "\/opt\/mssql-tools18\/bin\/sqlcmd -C /);

    const url = job.env?.MSSQL_URL;
    expect(url).toBeDefined();
    // Read as test/engines/sqlserver.contract.test.ts reads it, by the engine's own parser.
    const settings = settingsOf({
      config: { name: 'master', engine: 'sqlserver', connectionEnv: 'MSSQL_URL' } as DatabaseConfig,
      connectionString: url!,
    });
    expect(settings).toMatchObject({
      server: name,
      port: 1433,
      user: 'sa',
      password: service.env?.MSSQL_SA_PASSWORD,
      trustServerCertificate: true,
    });

    const commands = runs(job);
    expect(commands).toContain('bash scripts/setup.sh');
    expect(commands).toMatch(/npx vitest run test\/engines\/sqlserver .*--reporter=json --outputFile=sqlserver-results\.json/);
    expect(commands).toContain("f.name.endsWith('sqlserver.contract.test.ts')");
    expect(commands).toMatch(/if \(contract\.length === 0 \|\| ran === 0 \|\| skipped > 0\) process\.exit\(1\)/);
  });

  test('docs/sqlserver.md says how to run it', () => {
    const doc = readFileSync(join(ROOT, 'docs/sqlserver.md'), 'utf8');
    expect(doc).toContain('.github/workflows/ci.yml');
    expect(doc).toMatch(/## CI on GitHub Actions/);
  });
});
