import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { createBuiltinDataPlane } from '../../src/platform/data-plane/builtin.js';
import { createHaproxyDataPlane } from '../../src/platform/data-plane/haproxy/adapter.js';
import { writeHaproxyConfig } from '../../src/platform/data-plane/haproxy/config.js';
import { createNginxDataPlane } from '../../src/platform/data-plane/nginx/adapter.js';
import { writeNginxConfig, type NginxSetup } from '../../src/platform/data-plane/nginx/config.js';
import type { DataPlane, DataPlaneSite } from '../../src/platform/data-plane/port.js';
import { distinctFreePort, sleep, startUpstream, type Upstream } from '../support/upstream.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
export { distinctFreePort, sleep };

/** A slot replica stand-in: answers its name (also in X-App-Version); `/slow?ms=N` answers after N ms. Records arrivals. */
export interface Backend extends Upstream {
  host: string;
  inFlight: number;
}

export async function startBackend(name: string): Promise<Backend> {
  const upstream = await startUpstream(name, (req, res, self) => {
    const backend = self as Backend;
    backend.inFlight += 1;
    res.on('close', () => (backend.inFlight -= 1));
    const url = new URL(req.url ?? '/', 'http://backend');
    const delay = url.pathname === '/slow' ? Number(url.searchParams.get('ms') ?? 1000) : 0;
    req.resume();
    const answer = () => res.writeHead(200, { 'content-type': 'text/plain', 'x-app-version': name }).end(delay ? `slow ${name}` : name);
    if (delay) setTimeout(answer, delay);
    else answer();
  });
  return Object.assign(upstream, { host: '127.0.0.1', inFlight: 0 });
}

export const replicaOf = (backend: Backend) => ({ host: backend.host, port: backend.port });

/** A process in its own process group, so a crash can be simulated by SIGKILLing it with its children. */
export interface GroupProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL to the whole group, resolved once the leader exited. */
  crash(): Promise<void>;
}

const started = new Set<GroupProcess>();

export function spawnGroup(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; cpu?: number } = {}): GroupProcess {
  const [cmd, argv] = options.cpu === undefined ? [command, args] : ['taskset', ['-c', String(options.cpu), command, ...args]];
  const child = spawn(cmd, argv, { cwd: repo, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc: GroupProcess = {
    child,
    output: () => output,
    exited,
    async crash() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
      await exited;
      // Its children (nginx workers) die with the group; give the kernel a moment to release their sockets.
      await sleep(50);
    },
  };
  started.add(proc);
  void exited.then(() => started.delete(proc));
  return proc;
}

/** SIGKILLs every group this process started that is still running. */
export async function killStartedGroups() {
  await Promise.all([...started].map((proc) => proc.crash()));
}

export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, proc?: GroupProcess, timeoutMs = 30_000) {
  const deadline = performance.now() + timeoutMs;
  let exited = false;
  void proc?.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`${what}: the process exited:\n${proc!.output()}`);
    if (
      await Promise.resolve()
        .then(check)
        .catch(() => false)
    )
      return;
    if (performance.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${proc ? `:\n${proc.output()}` : ''}`);
    await sleep(25);
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** One data plane in front of `sites`, run as its own process(es), which the contract can crash and restart. */
export interface DataPlaneUnderTest {
  dataPlane: DataPlane;
  publicUrl(site: string): string;
  previewUrl(site: string): string;
  /** SIGKILL the data plane's processes, then start them again from their files. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The process group serving traffic now (its leader's pid): the bench reads the CPU its processes used. */
  processGroup(): number;
}

export interface HarnessOptions {
  dir: string;
  sites: DataPlaneSite[];
  /** Pin the proxy to this CPU (taskset). */
  cpu?: number;
  /** The built-in router from dist/ (npm run build), as it runs in production; else from the sources through tsx. */
  compiled?: boolean;
}

export type StartDataPlane = (options: HarnessOptions) => Promise<DataPlaneUnderTest>;

function urls(sites: DataPlaneSite[]) {
  const site = (name: string) => sites.find((s) => s.name === name)!;
  return {
    publicUrl: (name: string) => `http://127.0.0.1:${site(name).publicPort}`,
    previewUrl: (name: string) => `http://127.0.0.1:${site(name).previewPort}`,
  };
}

async function harness(options: HarnessOptions, dataPlane: DataPlane, start: () => Promise<GroupProcess>): Promise<DataPlaneUnderTest> {
  let proc = await start();
  return {
    dataPlane,
    ...urls(options.sites),
    async restart() {
      await proc.crash();
      proc = await start();
    },
    stop: () => proc.crash(),
    processGroup: () => proc.child.pid!,
  };
}

/** The built-in router: its own Node process, reading only its config file and its route file. */
export const startBuiltin: StartDataPlane = async (options) => {
  const adminPort = await distinctFreePort();
  const token = randomBytes(32).toString('hex');
  const configFile = join(options.dir, 'cutover.yaml');
  const site = (s: DataPlaneSite) => `{ name: ${s.name}, role: zdd, publicPort: ${s.publicPort}, previewPort: ${s.previewPort} }`;
  const sites = options.sites.map((s) => `      - ${site(s)}`);
  const environment = ['  acme:', `    router: { adminPort: ${adminPort} }`, '    sites:', ...sites];
  await writeFile(configFile, [`stateDir: ${options.dir}`, 'environments:', ...environment, ''].join('\n'));
  const url = `http://127.0.0.1:${adminPort}`;
  const dataPlane = createBuiltinDataPlane({ url, environment: 'acme', token, tokenEnv: 'CUTOVER_ROUTER_TOKEN' });
  return harness(options, dataPlane, async () => {
    const entry = options.compiled ? ['dist/src/platform/router/main.js'] : ['--import', 'tsx', 'src/platform/router/main.ts'];
    const args = [...entry, '--host', 'local', '--config', configFile];
    const proc = spawnGroup(process.execPath, args, { env: { ...process.env, CUTOVER_ROUTER_TOKEN: token }, cpu: options.cpu });
    await waitUntil('the built-in router serves its admin API', async () => (await dataPlane.routes(), true), proc);
    return proc;
  });
};

export const startHaproxy: StartDataPlane = async (options) => {
  const files = await writeHaproxyConfig({ dir: options.dir, sites: options.sites });
  const dataPlane = createHaproxyDataPlane({ dir: options.dir, sites: options.sites.map((s) => s.name) });
  return harness(options, dataPlane, async () => {
    const proc = spawnGroup('/usr/sbin/haproxy', ['-db', '-f', files.config], { cpu: options.cpu });
    const serving = async () => (await dataPlane.routes(), listening(options.sites[0]!.publicPort));
    await waitUntil('HAProxy serves its runtime API', serving, proc);
    return proc;
  });
};

/** nginx with its master in the foreground; `setup` adds to the generated config (clientKeepAliveSeconds). */
export const startNginx =
  (setup: Pick<NginxSetup, 'clientKeepAliveSeconds'> = {}): StartDataPlane =>
  async (options) => {
    const files = await writeNginxConfig({ dir: options.dir, sites: options.sites, ...setup });
    const dataPlane = createNginxDataPlane({ dir: options.dir, sites: options.sites, ...setup });
    return harness(options, dataPlane, async () => {
      const proc = spawnGroup('/usr/sbin/nginx', ['-p', options.dir, '-c', files.config, '-g', 'daemon off;'], { cpu: options.cpu });
      await waitUntil('nginx listens', () => listening(options.sites[0]!.publicPort), proc);
      return proc;
    });
  };
