/**
 * Cutover's worker, host agent and API reach Temporal through a TLS-terminating proxy (nginx, grpc_pass) that requires a
 * client certificate, configured only the way Temporal's own tools are: a profile of Temporal's client configuration
 * file named in cutover.yaml, and the TEMPORAL_* variables. A deployment started through the API is run by the worker,
 * which has the host agent list its slots: every hop through the proxy. Without the certificate, or with one from
 * another CA, each process is refused with an error that names the setting to change. The API key path is proved
 * the same way against a listener that wants `authorization: Bearer <key>`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { startApi } from '../../src/api/main.js';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';
import { hostTaskQueue } from '../../src/platform/agent/contract.js';
import { createSystemUser, isRoot } from '../../src/platform/agent/slot-user.js';
import { startRouter, type RunningRouter } from '../../src/platform/router/main.js';
import { startWorker } from '../../src/worker/main.js';
import { makeTestCertificates, type TestCertificates } from './certificates.js';
import { startTlsProxy, type TlsProxy } from './tls-proxy.js';

const ROOT = join(import.meta.dirname, '../..');
const id = randomBytes(3).toString('hex');
const environment = `tls${id}`;
const host = `tls-${id}`;
const taskQueue = `cutover-tls-${id}`;
const apiKey = `key-${randomBytes(16).toString('hex')}`;
const routerToken = randomBytes(24).toString('base64url');
const SLOT_USER = 'cutover-tests';

let dir: string;
let certificates: TestCertificates;
let proxy: TlsProxy;
let router: RunningRouter;
/** A client straight to the dev server, behind the proxy's back: what the test checks with. */
let direct: Client;
let directConnection: Connection;
const children: ChildProcess[] = [];

/** The process environment without any TEMPORAL_* of the machine running the tests. */
function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('TEMPORAL_')));
  return { ...env, CUTOVER_LOG_LEVEL: 'info', CUTOVER_ROUTER_TOKEN: routerToken, ...extra };
}

function writeCutoverYaml(name: string, temporal: string, apiPort = 7300): { file: string; config: LoadedConfig } {
  const yaml = `stateDir: ${join(dir, 'state')}
temporal: { ${temporal}, taskQueue: ${taskQueue} }
api: { port: ${apiPort} }
packages: { roots: [${join(ROOT, 'examples')}] }
environments:
  ${environment}:
    host: ${host}
    slotUser: ${SLOT_USER}
    router: { adminPort: ${routerAdminPort} }
    sites: [{ name: web, role: zdd, publicPort: ${sitePorts[0]}, previewPort: ${sitePorts[1]} }]
`;
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return { file, config: parseConfig(yaml, file) };
}

let routerAdminPort: number;
let sitePorts: number[];

interface Started {
  child: ChildProcess;
  output: () => string;
  exit: Promise<number | null>;
}

/** A Cutover process as operators run it: node with the TypeScript sources, its own environment. */
function startProcess(entry: string, args: string[], env: NodeJS.ProcessEnv): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, entry), ...args], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk) => (output += String(chunk)));
  child.stderr!.on('data', (chunk) => (output += String(chunk)));
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exit };
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  diagnostics: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${timeoutMs} ms (${String(last)})\n${diagnostics()}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

async function pollerIdentities(queue: string, type: 1 | 2): Promise<string[]> {
  const answer = await direct.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name: queue }, taskQueueType: type });
  return (answer.pollers ?? []).map((p) => p.identity ?? '');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cutover-tls-'));
  certificates = makeTestCertificates(dir);
  proxy = await startTlsProxy({ dir, upstream: inject('temporalAddress'), certificates, apiKey });
  routerAdminPort = await freePort();
  sitePorts = [await freePort(), await freePort()];
  // Temporal's client configuration file, as `temporal config set` writes it: one profile per way in.
  writeFileSync(
    join(dir, 'temporal.toml'),
    `[profile.through-proxy]
address = "${proxy.mtlsAddress}"
namespace = "default"

[profile.through-proxy.tls]
server_ca_cert_path = "${certificates.ca}"
client_cert_path = "${certificates.client.cert}"
client_key_path = "${certificates.client.key}"

[profile.no-client-certificate]
address = "${proxy.mtlsAddress}"

[profile.no-client-certificate.tls]
server_ca_cert_path = "${certificates.ca}"
`,
  );
  directConnection = await Connection.connect({ address: inject('temporalAddress') });
  direct = new Client({ connection: directConnection, namespace: 'default' });
  if (isRoot()) await createSystemUser(SLOT_USER, 'Cutover test slots');
}, 60_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await router?.close();
  // The deployment and the environment workflow of this file: nothing keeps running on the shared server.
  for await (const execution of direct.workflow.list({ query: `TaskQueue="${taskQueue}" AND ExecutionStatus="Running"` })) {
    await direct.workflow
      .getHandle(execution.workflowId, execution.runId)
      .terminate('test over')
      .catch(() => undefined);
  }
  await directConnection?.close();
  await proxy?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('through nginx with ssl_verify_client on, configured by a profile of Temporal’s client configuration', () => {
  test('the worker, the host agent and the API connect with the client certificate; a deployment runs through the proxy', async () => {
    const apiPort = await freePort();
    const { file, config } = writeCutoverYaml('cutover.yaml', 'profile: through-proxy', apiPort);
    router = await startRouter({ config, host, logger: pino({ level: 'warn' }), env: { CUTOVER_ROUTER_TOKEN: routerToken } });
    const env = baseEnv({ TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml') });
    const worker = startProcess('src/worker/main.ts', ['--config', file], env);
    const agent = startProcess(
      'src/platform/agent/main.ts',
      ['--host', host, '--config', file],
      baseEnv({ TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml') }),
    );
    const api = startProcess('src/api/main.ts', ['--config', file], env);
    const logs = () => `worker:\n${worker.output()}\nagent:\n${agent.output()}\napi:\n${api.output()}`;

    // Each polls through the proxy: the dev server sees their pollers.
    await eventually(
      'the worker polling',
      async () => ((await pollerIdentities(taskQueue, 1)).length > 0 ? true : undefined),
      240_000,
      logs,
    );
    await eventually(
      'the host agent polling',
      async () => ((await pollerIdentities(hostTaskQueue(host), 2)).length > 0 ? true : undefined),
      120_000,
      logs,
    );
    // They say how they connect, and never a secret: the private key's lines are nowhere in their output.
    expect(worker.output()).toContain(`Temporal at ${proxy.mtlsAddress} (address of profile through-proxy`);
    expect(worker.output()).toContain('TLS with the client certificate of client_cert_path of profile through-proxy');
    expect(agent.output()).toContain(`Temporal at ${proxy.mtlsAddress}`);
    const keyLines = readFileSync(certificates.client.key, 'utf8')
      .split('\n')
      .filter((line) => line.length > 40);
    for (const line of keyLines) expect(logs()).not.toContain(line);

    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const health = await eventually(
      'the API answering /health',
      async () => {
        const response = await fetch(`${apiUrl}/health`);
        const body = (await response.json()) as { temporal?: { ok: boolean } };
        return body.temporal?.ok ? body : undefined;
      },
      120_000,
      logs,
    );
    expect(health).toMatchObject({ status: 'ok', temporal: { ok: true } });
    // The very same profile serves Temporal's own CLI: one configuration for Cutover and its operators.
    const cli = execFileSync(inject('temporalCli'), ['operator', 'cluster', 'health', '--profile', 'through-proxy'], {
      env,
      encoding: 'utf8',
    });
    expect(cli).toMatch(/SERVING/);

    // A workflow round trip: the API starts a deployment (update-with-start of the environment workflow, answered by the
    // worker), the worker inspects the router and has the host agent list the environment's slots.
    const started = await fetch(`${apiUrl}/v1/environments/${environment}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ package: join(ROOT, 'examples/demo-app/v1'), mode: 'readonly' }),
    });
    const accepted = (await started.json()) as { deploymentId: string };
    expect(started.status, JSON.stringify(accepted)).toBe(202);
    const log = await eventually(
      'the host agent’s answer in the deployment log',
      async () => {
        const response = await fetch(`${apiUrl}/v1/deployments/${accepted.deploymentId}/log`);
        const text = await response.text();
        return text.includes('Inspected the environment') ? text : undefined;
      },
      120_000,
      logs,
    );
    expect(log).toContain('No version is live yet');
    // The listing the API serves comes through the proxy too.
    await eventually(
      'the deployment in the API’s listing',
      async () => {
        const listed = await (await fetch(`${apiUrl}/v1/deployments?environment=${environment}`)).text();
        return listed.includes(accepted.deploymentId) ? true : undefined;
      },
      60_000,
    );
  }, 420_000);

  test('without a client certificate: the worker and the agent stop, and the API reports it, naming the setting to set', async () => {
    const apiPort = await freePort();
    const { file, config } = writeCutoverYaml('cutover-no-cert.yaml', 'profile: no-client-certificate', apiPort);
    const env = baseEnv({ TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml') });
    const worker = startProcess('src/worker/main.ts', ['--config', file], env);
    const agent = startProcess('src/platform/agent/main.ts', ['--host', `${host}-refused`, '--config', file], env);
    expect(await worker.exit).toBe(1);
    expect(await agent.exit).toBe(1);
    for (const output of [worker.output(), agent.output()]) {
      expect(output).toContain(`cannot connect to Temporal at ${proxy.mtlsAddress}`);
      expect(output).toContain('TLS with no client certificate');
      expect(output).toContain('requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH');
    }

    const api = await startApi(config, { port: apiPort, env });
    try {
      const response = await fetch(`${api.url}/health`);
      const body = (await response.json()) as { temporal: { ok: boolean; error?: string } };
      expect(response.status).toBe(503);
      expect(body.temporal.ok).toBe(false);
      expect(body.temporal.error).toContain('requires a client certificate: set TEMPORAL_TLS_CLIENT_CERT_PATH');
    } finally {
      await api.close();
    }
  }, 120_000);

  test('with a certificate from another CA (TEMPORAL_TLS_* over the profile): refused, naming the setting and the certificate', async () => {
    const { file } = writeCutoverYaml('cutover-intruder.yaml', 'profile: through-proxy');
    const env = baseEnv({
      TEMPORAL_CONFIG_FILE: join(dir, 'temporal.toml'),
      TEMPORAL_TLS_CLIENT_CERT_PATH: certificates.intruder.cert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: certificates.intruder.key,
    });
    const worker = startProcess('src/worker/main.ts', ['--config', file], env);
    expect(await worker.exit).toBe(1);
    expect(worker.output()).toContain(
      'refused the client certificate of TEMPORAL_TLS_CLIENT_CERT_PATH (CN=intruder, issued by CN=another-ca)',
    );
    for (const line of readFileSync(certificates.intruder.key, 'utf8')
      .split('\n')
      .filter((l) => l.length > 40))
      expect(worker.output()).not.toContain(line);
  }, 120_000);
});

describe('with an API key (TEMPORAL_API_KEY), as for Temporal Cloud', () => {
  test('the right key connects the worker; a wrong one is refused naming TEMPORAL_API_KEY, and no key is ever printed', async () => {
    const { config } = writeCutoverYaml('cutover-api-key.yaml', 'namespace: default');
    const common = { TEMPORAL_ADDRESS: proxy.apiKeyAddress, TEMPORAL_TLS_SERVER_CA_CERT_PATH: certificates.ca };
    const good = await startWorker({ config, taskQueue: `${taskQueue}-api-key`, env: baseEnv({ ...common, TEMPORAL_API_KEY: apiKey }) });
    const running = good.run();
    try {
      await eventually(
        'the worker polling with the API key',
        async () => ((await pollerIdentities(`${taskQueue}-api-key`, 1)).length > 0 ? true : undefined),
        120_000,
      );
      expect(JSON.stringify(good.temporal)).not.toContain(apiKey);
      expect(good.temporal.describe()).toContain('API key of TEMPORAL_API_KEY');
    } finally {
      await good.shutdown();
      await running;
    }

    const wrongKey = `wrong-${randomBytes(8).toString('hex')}`;
    const refused = await startWorker({ config, env: baseEnv({ ...common, TEMPORAL_API_KEY: wrongKey }) }).then(
      () => new Error('the worker started with a wrong API key'),
      (error: unknown) => error as Error,
    );
    expect(refused.name).toBe('TemporalConnectionError');
    expect(refused.message).toContain('Temporal refused the API key of TEMPORAL_API_KEY');
    expect(refused.message).not.toContain(wrongKey);
  }, 240_000);
});
