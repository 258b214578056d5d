/**
 * A whole Cutover for one test file: worker, host agent, router and API app, on the run's real Temporal
 * server and PostgreSQL cluster, with names of its own so test files can run side by side.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import pg from 'pg';
import { inject } from 'vitest';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';
import { createApp } from '../../src/api/app.js';
import { createApiDeps, type ApiSettings } from '../../src/api/deps.js';
import { startWorker, type CutoverWorker } from '../../src/worker/main.js';
import { startHostAgent } from '../../src/platform/agent/main.js';
import { hostTaskQueue } from '../../src/platform/agent/contract.js';
import { startRouter, type RunningRouter } from '../../src/platform/router/main.js';
import { agentEnvironment } from '../../src/platform/agent/environment.js';
import { createSystemUser, isRoot } from '../../src/platform/agent/slot-user.js';
import { dropDatabasesLike, provideDatabase } from '../../src/devtools/postgres-cluster.js';
import pino from 'pino';

export interface SiteSpec {
  name: string;
  role: 'zdd' | 'maintenance-page';
  warmupPath?: string;
}

/** The shared services a stack runs on: the test run's by default, or a benchmark's own. */
export interface StackServices {
  temporalAddress: string;
  temporalCli: string;
  pgAdminUrl: string;
  pgBinDir: string;
}

export interface StackOptions {
  services?: StackServices;
  sites?: SiteSpec[];
  verificationTimeout?: string;
  warmupTimeout?: string;
  /** Short timeouts make a killed worker's activities time out and retry quickly. */
  timeouts?: { step?: string; heartbeat?: string };
  /** Another Temporal server than the run's (a test that restarts its own). */
  temporalAddress?: string;
  /** Run the worker as a real child process that the test can SIGKILL. */
  workerProcess?: boolean;
  /** Run the host agent as a real child process that the test can SIGKILL. */
  agentProcess?: boolean;
  /** Where Cutover reaches the database (a flaky proxy in front of it, say). */
  databaseUrl?: (direct: string) => string;
  /** Adds the top-level `slack` section (env var names, API URL) and the environment's channel and approvers. */
  slack?: {
    channel: string;
    approvers: string[];
    apiUrl?: string;
    signingSecretEnv?: string;
    botTokenEnv?: string;
    reminderInterval?: string;
  };
  /** Enables API auth with these tokens (given in clear, hashed into the config), plus the stack's own all-roles token. */
  auth?: (environment: string) => TestToken[];
  /** API tunables (a shorter log poll, a smaller upload limit). */
  apiSettings?: Partial<ApiSettings>;
  /** The environment's analysis during verification, as a YAML flow mapping. */
  analysis?: string;
  /** The hosts the slots run on (the test starts their agents); the stack's own host keeps the router and its agent. */
  slotHosts?: Array<{ name: string; address: string }>;
  /**
   * The environment's dataPlane section as a YAML flow mapping, given the stack's state dir; behind HAProxy or nginx
   * the stack starts no router (the caller runs the proxy: test/support/stack-on-test-hosts.ts).
   */
  dataPlane?: (stateDir: string) => string;
}

export interface TestToken {
  name: string;
  token: string;
  roles: Array<'viewer' | 'deployer' | 'approver'>;
  environments?: string[];
}

export interface TestStack {
  environment: string;
  config: LoadedConfig;
  configFile: string;
  /** With CUTOVER_RECORD_HISTORIES=1, saves the workflow's history as a replay fixture. */
  recordHistory(workflowId: string, name: string): Promise<void>;
  /** SIGKILL the worker process (workerProcess stacks). */
  killWorker(): Promise<void>;
  startWorker(extraEnv?: NodeJS.ProcessEnv): Promise<void>;
  /** Resolves with the signal or exit code when the worker process ends on its own. */
  workerExited(): Promise<string | null>;
  /** SIGKILL the host agent process (agentProcess stacks); its slots keep running. */
  killAgent(): Promise<void>;
  startAgent(extraEnv?: NodeJS.ProcessEnv): Promise<void>;
  /** Resolves with the signal or exit code when the agent process ends on its own. */
  agentExited(): Promise<string | null>;
  env: NodeJS.ProcessEnv;
  client: Client;
  app: ReturnType<typeof createApp>;
  /** The built-in router (stacks on another data plane have none: reading it throws). */
  router: RunningRouter;
  /** The router admin secret the stack's router, worker and API share. */
  routerToken: string;
  /** Public URL of a site, through the router. */
  publicUrl(site?: string): string;
  previewUrl(site?: string): string;
  /** Runs SQL on the environment's original database. */
  sql<T extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  databaseNames(): Promise<string[]>;
  /** Through app.request(); with the stack's own token when auth is enabled, unless headers say otherwise. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; text: string }>;
  /** The stack's all-roles token when auth is enabled. */
  adminToken: string | undefined;
  /** Serves the API app on a free loopback port (for real HTTP clients such as the CLI). */
  serveApi(): Promise<{ url: string; close(): Promise<void> }>;
  waitForPhase(id: string, phases: string[], timeoutMs?: number): Promise<any>;
  /** `extra` joins the request body (allowMissingMigrations, say). */
  deploy(pkg: string, mode?: string, extra?: Record<string, unknown>): Promise<string>;
  /** Deploys, waits for verification, Completes, and returns the completed status. */
  deployAndComplete(pkg: string, mode?: string): Promise<any>;
  close(): Promise<void>;
}

const quiet = pino({ level: 'warn' });
const TEST_SLOT_USER = 'cutover-tests';
Runtime.install({ logger: new DefaultLogger('WARN') });

export async function startTestStack(options: StackOptions = {}): Promise<TestStack> {
  const id = randomBytes(3).toString('hex');
  const adminToken = options.auth ? randomBytes(24).toString('base64url') : undefined;
  const environment = `t${id}`;
  const stateDir = mkdtempSync(join(tmpdir(), `cutover-${environment}-`));
  const sites = options.sites ?? [{ name: 'web', role: 'zdd' }];
  const dbName = `${environment}_app`;
  const services: StackServices = options.services ?? {
    temporalAddress: inject('temporalAddress'),
    temporalCli: inject('temporalCli'),
    pgAdminUrl: inject('pgAdminUrl'),
    pgBinDir: inject('pgBinDir'),
  };
  const adminUrl = services.pgAdminUrl;
  // The database with its migration and application logins, as an operator sets them up (docs/security.md).
  const loginRoles = { migration: `${environment}_migrator`, app: `${environment}_application` };
  const logins = await provideDatabase(adminUrl, dbName, loginRoles);
  const reach = (url: string) => (options.databaseUrl ? options.databaseUrl(url) : url);
  const dbEnv = `DB_${id.toUpperCase()}`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    [`${dbEnv}_URL`]: reach(logins.admin),
    [`${dbEnv}_MIGRATION_URL`]: reach(logins.migration),
    [`${dbEnv}_APP_URL`]: reach(logins.app),
  };
  // Every stack's slots run as one shared unprivileged user (as root): no user per test environment piles up.
  if (isRoot()) await createSystemUser(TEST_SLOT_USER, 'Cutover test slots');
  // The router admin secret, as `npm start` hands it out: to the router, the worker and the API, never to the host agent.
  const routerToken = randomBytes(32).toString('base64url');
  delete env.CUTOVER_ROUTER_TOKEN;
  const withRouterToken: NodeJS.ProcessEnv = { ...env, CUTOVER_ROUTER_TOKEN: routerToken };

  const ports = await Promise.all([freePort(), ...sites.flatMap(() => [freePort(), freePort()])]);
  const siteEntry = (s: (typeof sites)[number], i: number) =>
    `      - { name: ${s.name}, role: ${s.role},${s.warmupPath ? ` warmupPath: ${s.warmupPath},` : ''} ` +
    `warmupTimeout: ${options.warmupTimeout ?? '30s'}, publicPort: ${ports[1 + 2 * i]}, previewPort: ${ports[2 + 2 * i]} }`;
  const yaml = `
stateDir: ${stateDir}
temporal: { address: "${options.temporalAddress ?? services.temporalAddress}", namespace: default, taskQueue: cutover-${environment} }
postgres: { binDir: ${services.pgBinDir} }
packages: { roots: [${join(repoRoot, 'examples')}] }
${options.slack ? `slack: { ${slackTopLevel(options.slack)} }` : ''}
${authSection(options.auth?.(environment), adminToken)}
${hostsSection(options.slotHosts)}
environments:
  ${environment}:
    host: h${id}
${options.slotHosts ? `    hosts: [${options.slotHosts.map((h) => h.name).join(', ')}]` : ''}
    slotUser: ${TEST_SLOT_USER}
${options.slack ? `    slack: { channel: ${options.slack.channel}, approvers: [${options.slack.approvers.join(', ')}] }` : ''}
    verificationTimeout: ${options.verificationTimeout ?? '1h'}
${options.analysis ? `    analysis: ${options.analysis}` : ''}
    timeouts: { step: ${options.timeouts?.step ?? '60s'}, heartbeat: ${options.timeouts?.heartbeat ?? '20s'} }
${options.dataPlane ? `    dataPlane: ${options.dataPlane(stateDir)}` : ''}
    router: { adminPort: ${ports[0]}${options.slotHosts ? `, slotHosts: [${options.slotHosts.map((h) => h.address).join(', ')}]` : ''} }
    sites:
${sites.map(siteEntry).join('\n')}
    databases:
      - name: app
        engine: postgres
        connectionEnv: ${dbEnv}_URL
        migrationConnectionEnv: ${dbEnv}_MIGRATION_URL
        appConnectionEnv: ${dbEnv}_APP_URL
`;
  const configFile = join(stateDir, 'cutover.yaml');
  writeFileSync(configFile, yaml);
  const config = parseConfig(yaml, configFile);
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  const clientConnection = await Connection.connect({ address: config.temporal.address });
  const client = new Client({ connection: clientConnection, namespace: config.temporal.namespace });

  const adapter = config.environments[environment]!.dataPlane.adapter;
  const router = adapter === 'builtin' ? await startRouter({ config, host: `h${id}`, logger: quiet, env: withRouterToken }) : null;
  const agentEnv = agentEnvironment(config, `h${id}`, env);
  const agent = options.agentProcess ? null : await startHostAgent({ config, host: `h${id}`, connection, env: agentEnv, logger: quiet });
  let agentChild: ChildProcess | null = null;
  const startAgentNow = async (extraEnv: NodeJS.ProcessEnv = {}) => {
    agentChild = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'src/platform/agent/main.ts'), '--host', `h${id}`, '--config', configFile],
      {
        env: { ...agentEnv, ...extraEnv, CUTOVER_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'inherit', 'inherit'],
        detached: true,
      },
    );
    await waitForPollers(client, hostTaskQueue(`h${id}`), 60_000, 2, agentChild.pid);
  };
  let worker: CutoverWorker | null = null;
  let workerRun: Promise<void> = Promise.resolve();
  let workerChild: ChildProcess | null = null;
  const startWorkerNow = async (extraEnv: NodeJS.ProcessEnv = {}) => {
    if (options.workerProcess) {
      workerChild = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src/worker/main.ts'), '--config', configFile], {
        env: { ...withRouterToken, ...extraEnv, CUTOVER_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'inherit', 'inherit'],
        detached: true, // its own session, like a worker run by a service manager
      });
      await waitForPollers(client, config.temporal.taskQueue, 60_000, 1, workerChild.pid);
    } else {
      worker = await startWorker({ config, connection, env: withRouterToken });
      workerRun = worker.run();
    }
  };
  await startWorkerNow();
  const agentRun = agent ? agent.run() : startAgentNow();
  const app = createApp(createApiDeps(config, client, withRouterToken, options.apiSettings));
  const servers: Array<{ close(): Promise<void> }> = [];
  const site0 = sites[0]!.name;
  const siteCfg = (name: string) => config.environments[environment]!.sites.find((s) => s.name === name)!;

  const stack: TestStack = {
    environment,
    config,
    configFile,
    async recordHistory(workflowId, name) {
      if (!process.env.CUTOVER_RECORD_HISTORIES) return;
      // The CLI writes the standard proto JSON that Worker.runReplayHistory reads.
      const json = execFileSync(services.temporalCli, [
        'workflow',
        'show',
        '--address',
        config.temporal.address,
        '--workflow-id',
        workflowId,
        '--output',
        'json',
      ]);
      writeFileSync(join(repoRoot, 'test/replay/histories', `${name}.json`), json);
    },
    killWorker: () => kill(workerChild),
    async startWorker(extraEnv) {
      await startWorkerNow(extraEnv);
    },
    workerExited: () => exited(workerChild),
    killAgent: () => kill(agentChild),
    startAgent: (extraEnv) => startAgentNow(extraEnv),
    agentExited: () => exited(agentChild),
    env,
    client,
    app,
    get router() {
      if (!router) throw new Error(`this stack runs behind ${adapter}, not the built-in router`);
      return router;
    },
    routerToken,
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
        return (
          await c.query<{ datname: string }>('select datname from pg_database where datname like $1 order by 1', [`${environment}%`])
        ).rows.map((r) => r.datname);
      } finally {
        await c.end();
      }
    },
    adminToken,
    async serveApi() {
      const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
        const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
      });
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const handle = { close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
      servers.push(handle);
      return { url: `http://127.0.0.1:${port}`, close: handle.close };
    },
    async api(method, path, body, headers) {
      const auth: Record<string, string> = adminToken ? { authorization: `Bearer ${adminToken}` } : {};
      const response = await app.request(path, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
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
      throw new Error(
        `deployment ${deploymentId} did not reach ${phases.join('/')} in ${timeoutMs} ms; last: ${JSON.stringify(last?.phase)}\n${log.text}`,
      );
    },
    async deploy(pkg, mode = 'readonly', extra = {}) {
      // The API takes absolute host paths only: examples/... means the repository's.
      const hostPath = pkg.startsWith('sha256:') || isAbsolute(pkg) ? pkg : join(repoRoot, pkg);
      const r = await stack.api('POST', `/v1/environments/${environment}/deployments`, { package: hostPath, mode, ...extra });
      if (r.status !== 202) throw new Error(`deploy answered ${r.status}: ${r.text}`);
      return r.body.deploymentId as string;
    },
    async deployAndComplete(pkg, mode = 'readonly') {
      const id = await stack.deploy(pkg, mode);
      await stack.waitForPhase(id, ['awaiting-verification']);
      const accepted = await stack.api('POST', `/v1/deployments/${id}/complete`, {});
      if (accepted.status !== 200) throw new Error(`complete answered ${accepted.status}: ${accepted.text}`);
      return stack.waitForPhase(id, ['completed']);
    },
    async close() {
      await Promise.allSettled(servers.map((server) => server.close()));
      await stack.killWorker();
      if (worker?.worker.getState() === 'RUNNING') worker.worker.shutdown();
      agent?.shutdown();
      await kill(agentChild);
      await Promise.allSettled([workerRun, agentRun]);
      await router?.close();
      killSlots(stateDir);
      await connection.close();
      await clientConnection.close();
      // A copy that still follows its original (a test left it in maintenance) holds a replication slot: drop that too.
      await dropDatabasesLike(adminUrl, environment);
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      for (const role of [loginRoles.migration, loginRoles.app]) await c.query(`drop role if exists ${c.escapeIdentifier(role)}`);
      await c.end();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
  return stack;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

function hostsSection(hosts: StackOptions['slotHosts']): string {
  if (!hosts) return '';
  return `hosts:\n${hosts.map((h) => `  ${h.name}: { address: ${h.address} }`).join('\n')}`;
}

async function kill(child: ChildProcess | null) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exit = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exit;
}

function exited(child: ChildProcess | null): Promise<string | null> {
  if (!child) return Promise.resolve(null);
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? String(child.exitCode));
  return new Promise((r) => child.once('exit', (code, signal) => r(signal ?? String(code))));
}

/** A worker counts as up once it polls its task queue (1: workflow tasks, 2: activity tasks); that process, when given. */
export async function waitForPollers(client: Client, taskQueue: string, timeoutMs = 60_000, taskQueueType = 1, pid?: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const r = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: taskQueue }, taskQueueType });
    const polling = (r.pollers ?? []).filter((p) => (p.lastAccessTime?.seconds?.toNumber?.() ?? 0) * 1000 > Date.now() - 5000);
    // A killed process's poller stays listed for a while: a restarted one is known by its pid in the identity.
    if (polling.some((p) => pid === undefined || new RegExp(`\\b${pid}\\b`).test(p.identity ?? ''))) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no worker polled ${taskQueue} within ${timeoutMs} ms`);
}

/** The auth section: tokens hashed as an operator would (sha256 hex), the stack's own first. */
function authSection(tokens: TestToken[] | undefined, adminToken: string | undefined): string {
  if (!tokens || !adminToken) return '';
  const all: TestToken[] = [{ name: 'stack', token: adminToken, roles: ['viewer', 'deployer', 'approver'] }, ...tokens];
  const entry = (t: TestToken) =>
    `    - { name: ${t.name}, sha256: ${createHash('sha256').update(t.token).digest('hex')}, roles: [${t.roles.join(', ')}]` +
    `${t.environments ? `, environments: [${t.environments.join(', ')}]` : ''} }`;
  return `auth:\n  tokens:\n${all.map(entry).join('\n')}`;
}

function slackTopLevel(slack: NonNullable<StackOptions['slack']>): string {
  const fields: Array<[string, string | undefined]> = [
    ['signingSecretEnv', slack.signingSecretEnv],
    ['botTokenEnv', slack.botTokenEnv],
    ['apiUrl', slack.apiUrl && JSON.stringify(slack.apiUrl)],
    ['reminderInterval', slack.reminderInterval],
  ];
  return fields.flatMap(([key, value]) => (value ? [`${key}: ${value}`] : [])).join(', ');
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
