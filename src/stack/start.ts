/**
 * Brings the whole stack up on this machine: the Temporal dev server (with its Web UI), a router per
 * host (serving every environment of that host), the host agent, the worker and the API. Everything runs detached: `npm run stop` ends it.
 * With --demo, then deploys the demo application (v1, then v2 up to awaiting verification).
 */
import type { Client } from '@temporalio/client';
import { join } from 'node:path';
import { loadConfig, type LoadedConfig } from '../config/load.js';
import { routerUrl } from '../platform/router/access.js';
import { provideDatabase, startPostgresCluster, superuserUrlOf } from '../devtools/postgres-cluster.js';
import { agentEnvironment } from '../platform/agent/environment.js';
import { freePort, isPortFree } from '../process/free-port.js';
import { startDevServer } from '../../temporal/dev-server.js';
import { explained, lazyClient, type TemporalSettings } from '../temporal/connection.js';
import { ensureProcess, logFile, runningPid, waitFor, type ManagedProcess } from './processes.js';
import { programCommand } from '../installation.js';
import { ensureSearchAttributes } from './search-attributes.js';
import { provideRouterTokens, withoutRouterTokens } from './router-tokens.js';
import { recordStartedStack } from './started-stacks.js';
import { runDemo } from './demo.js';
import { writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';

const DEMO_PG_PORT = Number(process.env.CUTOVER_DEMO_PG_PORT ?? 55432);

async function reachable(url: string): Promise<boolean> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(1000) });
    return true;
  } catch {
    return false;
  }
}

/** Databases whose connection variable is unset get a local PostgreSQL cluster under the state dir. */
async function provideLocalDatabases(config: LoadedConfig, env: NodeJS.ProcessEnv): Promise<string[]> {
  const missing = Object.values(config.environments)
    .flatMap((e) => e.databases)
    .filter((db) => !env[db.connectionEnv]);
  if (missing.length === 0) return [];
  const notes: string[] = [];
  const unsupported = missing.filter((db) => db.engine !== 'postgres');
  if (unsupported.length)
    throw new Error(`set ${unsupported.map((d) => d.connectionEnv).join(', ')}: Cutover only provides local PostgreSQL databases`);
  // Only our own cluster is reused (known by its pid file), never whatever else answers on a port.
  const dataDir = join(config.stateDir, 'postgres');
  const portFile = join(dataDir, 'port');
  let port: number;
  let superuserUrl: string;
  if (runningPid(config.stateDir, 'postgres') && existsSync(portFile)) {
    port = Number(readFileSync(portFile, 'utf8'));
    superuserUrl = superuserUrlOf(dataDir, port);
  } else {
    mkdirSync(dataDir, { recursive: true });
    const wanted = (await isPortFree(DEMO_PG_PORT)) ? DEMO_PG_PORT : await freePort();
    const cluster = await startPostgresCluster({ dataDir, port: wanted, detached: true, binDir: config.postgres.binDir });
    port = cluster.port;
    superuserUrl = cluster.adminUrl;
    writeFileSync(join(config.stateDir, 'run', 'postgres.pid'), String(cluster.pid));
    writeFileSync(portFile, String(port));
    notes.push(`started a local PostgreSQL for the demo on 127.0.0.1:${port} (data in ${dataDir})`);
  }
  for (const db of missing) {
    const name = `${db.name}`;
    // Each login with only the rights of its job (docs/security.md): the application's cannot drop or create databases.
    const logins = await provideDatabase(superuserUrl, name, { migration: `${name}_migrator`, app: `${name}_application` });
    env[db.connectionEnv] = logins.admin;
    if (db.migrationConnectionEnv && !env[db.migrationConnectionEnv]) env[db.migrationConnectionEnv] = logins.migration;
    if (db.appConnectionEnv && !env[db.appConnectionEnv]) env[db.appConnectionEnv] = logins.app;
    notes.push(`${db.connectionEnv} was unset: using the local database ${name}`);
  }
  return notes;
}

export async function startStack(config: LoadedConfig) {
  const env: NodeJS.ProcessEnv = { ...process.env, CUTOVER_CONFIG: config.file };
  mkdirSync(join(config.stateDir, 'run'), { recursive: true });
  // Before anything starts: `npm run stop` without --config must find even a stack whose start failed half-way.
  recordStartedStack({ config: config.file, stateDir: config.stateDir });
  const notes = await provideLocalDatabases(config, env);
  notes.push(...provideRouterTokens(config, env));
  const started: ManagedProcess[] = [];
  const { settings: temporal, connection, client } = lazyClient(config.temporal, env, { connectTimeout: '2s' });
  const [temporalHost, temporalPortText] = temporal.address.split(':');
  const temporalPort = Number(temporalPortText ?? 7233);

  // Temporal: ours if nothing answers on a plain loopback address; a cluster (TLS, an API key, another host) must answer.
  const temporalUp = () => client.workflowService.getSystemInfo({}).then(() => true);
  if (!(await temporalUp().catch(() => false))) {
    if (!isLocalDevServer(temporal)) await explained(temporal, () => client.workflowService.getSystemInfo({}));
    if (!runningPid(config.stateDir, 'temporal')) {
      const child = startDevServer({
        dataDir: join(config.stateDir, 'temporal'),
        port: temporalPort,
        uiPort: config.temporal.uiPort,
        namespace: temporal.namespace,
        ip: temporalHost,
        detached: true,
      });
      writeFileSync(join(config.stateDir, 'run', 'temporal.pid'), String(child.pid));
      started.push({ name: 'temporal', pid: child.pid!, log: join(config.stateDir, 'temporal', 'temporal.log'), reused: false });
    }
    await waitFor('the Temporal dev server', temporalUp, 60_000, join(config.stateDir, 'temporal', 'temporal.log'));
  }
  await ensureSearchAttributes(client, temporal.namespace);

  const configArgs = ['--config', config.file];
  // One router per host, serving every environment of that host.
  for (const host of routerHosts(config).keys()) {
    const [cmd, args] = programCommand('src/platform/router/main.ts');
    started.push(ensureProcess(config.stateDir, `router-${host}`, cmd, [...args, '--host', host, ...configArgs], env));
  }
  for (const host of new Set(Object.values(config.environments).map((e) => e.host))) {
    const [cmd, args] = programCommand('src/platform/agent/main.ts');
    // Only the secrets the agent needs: its slots' application logins.
    const agentEnv = agentEnvironment(config, host, withoutRouterTokens(config, env));
    started.push(ensureProcess(config.stateDir, `agent-${host}`, cmd, [...args, '--host', host, ...configArgs], agentEnv));
  }
  {
    const [cmd, args] = programCommand('src/worker/main.ts');
    started.push(ensureProcess(config.stateDir, 'worker', cmd, [...args, ...configArgs], env));
    const [apiCmd, apiArgs] = programCommand('src/api/main.ts');
    started.push(ensureProcess(config.stateDir, 'api', apiCmd, [...apiArgs, ...configArgs], env));
  }

  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  for (const [host, environments] of routerHosts(config)) {
    const healthz = `${routerUrl(config.environments[environments[0]!]!)}/healthz`;
    await waitFor(`the router of host ${host}`, () => reachable(healthz), 60_000, logFile(config.stateDir, `router-${host}`));
    // A router already running read the config when it started: an environment added since is not served yet.
    const served = ((await (await fetch(healthz)).json()) as { environments?: string[] }).environments ?? [];
    const missing = environments.filter((name) => !served.includes(name));
    if (missing.length > 0) {
      const restart = 'it reads the config when it starts; restart it (npm run stop, then npm start)';
      notes.push(`the router of host ${host} does not serve ${missing.join(', ')} yet: ${restart}`);
    }
  }
  await waitFor('the API', () => reachable(`${apiUrl}/health`), 60_000, logFile(config.stateDir, 'api'));
  await waitFor(
    'the worker and host agent',
    async () => (await pollers(client, temporal.namespace, config.temporal.taskQueue)) > 0,
    90_000,
    logFile(config.stateDir, 'worker'),
  );

  await connection.close();
  return { apiUrl, started, notes, temporal, temporalUi: `http://${temporalHost}:${config.temporal.uiPort}` };
}

/** Where `npm start` may run Temporal's dev server itself: a plain address on this machine. */
function isLocalDevServer(temporal: TemporalSettings): boolean {
  const host = temporal.address.replace(/:\d+$/, '');
  return !temporal.target.tls && !temporal.target.origins.apiKey && ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

/** Each host of the config with its environments on the built-in router, in config order. */
function routerHosts(config: LoadedConfig): Map<string, string[]> {
  const hosts = new Map<string, string[]>();
  for (const [name, env] of Object.entries(config.environments)) {
    // HAProxy and nginx run as the operator runs them (npm run data-plane:config writes their starting config).
    if (env.dataPlane.adapter === 'builtin') hosts.set(env.host, [...(hosts.get(env.host) ?? []), name]);
  }
  return hosts;
}

async function pollers(client: Client, namespace: string, taskQueue: string): Promise<number> {
  const response = await client.workflowService.describeTaskQueue({ namespace, taskQueue: { name: taskQueue }, taskQueueType: 1 });
  return response.pollers?.length ?? 0;
}

async function main() {
  const args = process.argv.slice(2);
  const config = loadConfig(args.find((_, i) => args[i - 1] === '--config'));
  console.log(`Starting Cutover (config ${config.file}, state in ${config.stateDir})`);
  const stack = await startStack(config);
  for (const note of stack.notes) console.log(`  note: ${note}`);
  console.log('\nCutover is up:');
  console.log(`  Temporal server     ${stack.temporal.describe()}`);
  console.log(`  Temporal Web UI     ${stack.temporalUi}`);
  console.log(`  API                 ${stack.apiUrl}   (health: ${stack.apiUrl}/health, OpenAPI: ${stack.apiUrl}/openapi.json)`);
  for (const [host, environments] of routerHosts(config)) {
    console.log(`  router of ${host.padEnd(9)} admin ${routerUrl(config.environments[environments[0]!]!)}`);
    for (const name of environments) {
      for (const site of config.environments[name]!.sites) {
        const urls = `public http://127.0.0.1:${site.publicPort}/  preview http://127.0.0.1:${site.previewPort}/`;
        console.log(`    ${name} site ${site.name.padEnd(14)} ${urls}`);
      }
    }
  }
  console.log(`  processes           ${stack.started.map((p) => `${p.name}(${p.pid}${p.reused ? ', already running' : ''})`).join(' ')}`);
  console.log(`  logs                ${join(config.stateDir, 'logs')}`);
  console.log('  stop everything     npm run stop\n');
  if (args.includes('--demo')) await runDemo({ apiUrl: stack.apiUrl, config, temporalUi: stack.temporalUi });
}

main().catch((error) => {
  console.error(`\ncutover start failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
