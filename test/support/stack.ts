/**
 * A whole Cutover for one test file: worker, host agent, router and API app, on the run's real Temporal
 * server and PostgreSQL cluster, with names of its own so test files can run side by side.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { freePort } from '../../src/devtools/free-port.js';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { startWorker, type CutoverWorker } from '../../src/worker/main.js';
import { startHostAgent, type HostAgent } from '../../src/platform/agent/main.js';
import { startRouter, type RunningRouter } from '../../src/platform/router/main.js';
import pino from 'pino';

export interface SiteSpec {
  name: string;
  role: 'zdd' | 'maintenance-page';
}

export interface TestStack {
  environment: string;
  config: LoadedConfig;
  env: NodeJS.ProcessEnv;
  client: Client;
  app: ReturnType<typeof createApp>;
  router: RunningRouter;
  /** Public URL of a site, through the router. */
  publicUrl(site?: string): string;
  previewUrl(site?: string): string;
  /** Runs SQL on the environment's original database. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  databaseNames(): Promise<string[]>;
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any; text: string }>;
  waitForPhase(id: string, phases: string[], timeoutMs?: number): Promise<any>;
  deploy(pkg: string, mode?: string): Promise<string>;
  close(): Promise<void>;
}

const quiet = pino({ level: 'warn' });
Runtime.install({ logger: new DefaultLogger('WARN') });

export async function startTestStack(options: { sites?: SiteSpec[]; databases?: number; verificationTimeout?: string; warmupTimeout?: string } = {}): Promise<TestStack> {
  const id = randomBytes(3).toString('hex');
  const environment = `t${id}`;
  const stateDir = mkdtempSync(join(tmpdir(), `cutover-${environment}-`));
  const sites = options.sites ?? [{ name: 'web', role: 'zdd' }];
  const dbName = `${environment}_app`;
  const adminUrl = inject('pgAdminUrl');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${admin.escapeIdentifier(dbName)}`);
  await admin.end();
  const env: NodeJS.ProcessEnv = { ...process.env, [`DB_${id.toUpperCase()}_URL`]: adminUrl.replace(/\/postgres$/, `/${dbName}`) };

  const ports = await Promise.all([freePort(), ...sites.flatMap(() => [freePort(), freePort()])]);
  const yaml = `
stateDir: ${stateDir}
temporal: { address: "${inject('temporalAddress')}", namespace: default, taskQueue: cutover-${environment} }
postgres: { binDir: ${inject('pgBinDir')} }
environments:
  ${environment}:
    host: h${id}
    verificationTimeout: ${options.verificationTimeout ?? '1h'}
    router: { adminPort: ${ports[0]} }
    sites:
${sites.map((s, i) => `      - { name: ${s.name}, role: ${s.role}, warmupTimeout: ${options.warmupTimeout ?? '30s'}, publicPort: ${ports[1 + 2 * i]}, previewPort: ${ports[2 + 2 * i]} }`).join('\n')}
    databases:
      - { name: app, engine: postgres, connectionEnv: DB_${id.toUpperCase()}_URL }
`;
  const config = parseConfig(yaml, join(process.cwd(), 'cutover.test.yaml'));
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

  const router = await startRouter({ config, environment, logger: quiet });
  const agent: HostAgent = await startHostAgent({ config, host: `h${id}`, connection, env, logger: quiet });
  const worker: CutoverWorker = await startWorker({ config, connection, env });
  const agentRun = agent.run();
  const workerRun = worker.run();
  const app = createApp(createApiDeps(config, client, env));
  const site0 = sites[0]!.name;
  const siteCfg = (name: string) => config.environments[environment]!.sites.find((s) => s.name === name)!;

  const stack: TestStack = {
    environment,
    config,
    env,
    client,
    app,
    router,
    publicUrl: (site = site0) => `http://127.0.0.1:${siteCfg(site).publicPort}`,
    previewUrl: (site = site0) => `http://127.0.0.1:${siteCfg(site).previewPort}`,
    async sql(text, params) {
      const c = new pg.Client({ connectionString: env[`DB_${id.toUpperCase()}_URL`] });
      await c.connect();
      try {
        return (await c.query(text, params)).rows;
      } finally {
        await c.end();
      }
    },
    async databaseNames() {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        return (await c.query<{ datname: string }>('select datname from pg_database where datname like $1 order by 1', [`${environment}%`])).rows.map((r) => r.datname);
      } finally {
        await c.end();
      }
    },
    async api(method, path, body) {
      const response = await app.request(path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      let parsed: unknown = undefined;
      try {
        parsed = JSON.parse(text);
      } catch {
        // text answers (the log)
      }
      return { status: response.status, body: parsed, text };
    },
    async waitForPhase(deploymentId, phases, timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      let last: any;
      while (Date.now() < deadline) {
        const r = await stack.api('GET', `/v1/deployments/${deploymentId}`);
        last = r.body;
        if (r.status === 200 && phases.includes(r.body.phase)) return r.body;
        if (r.status === 200 && r.body.phase === 'failed' && !phases.includes('failed')) {
          const log = await stack.api('GET', `/v1/deployments/${deploymentId}/log`);
          throw new Error(`deployment failed: ${JSON.stringify(r.body.failure)}\n${log.text}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      const log = await stack.api('GET', `/v1/deployments/${deploymentId}/log`);
      throw new Error(`deployment ${deploymentId} did not reach ${phases.join('/')} in ${timeoutMs} ms; last: ${JSON.stringify(last?.phase)}\n${log.text}`);
    },
    async deploy(pkg, mode = 'readonly') {
      const r = await stack.api('POST', `/v1/environments/${environment}/deployments`, { package: pkg, mode });
      if (r.status !== 202) throw new Error(`deploy answered ${r.status}: ${r.text}`);
      return r.body.deploymentId as string;
    },
    async close() {
      worker.worker.shutdown();
      agent.shutdown();
      await Promise.allSettled([workerRun, agentRun]);
      await router.close();
      killSlots(stateDir);
      await connection.close();
      await clientConnection.close();
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      const dbs = await c.query<{ datname: string }>('select datname from pg_database where datname like $1', [`${environment}%`]);
      for (const row of dbs.rows) await c.query(`drop database if exists ${c.escapeIdentifier(row.datname)} with (force)`);
      await c.end();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Slots are detached on purpose; a test run leaves none behind. */
export function killSlots(stateDir: string) {
  const hosts = join(stateDir, 'hosts');
  if (!existsSync(hosts)) return;
  for (const host of readdirSync(hosts)) {
    const dir = join(hosts, host, 'slots');
    for (const file of existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : []) {
      const { pid } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { pid?: number };
      if (!pid) continue;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
  }
}
