/**
 * The production build: `npm run build` compiles to dist/ with a prebuilt workflow bundle; the compiled worker loads
 * that bundle instead of bundling at start; `npm start` runs the compiled stack, with no tsx process.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { portToListenOnLater } from '../support/listen-port.js';
import { cutoverRoot, distDir, prebuiltWorkflowBundle } from '../../src/installation.js';
import { isAlive } from '../../src/stack/processes.js';
import { WORKFLOW_BUNDLE_ENV, workflowCode } from '../../src/worker/workflow-code.js';
import * as workflows from '../../src/workflows/index.js';

const run = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'cutover-build-'));
// Its own list of started stacks (a plain `npm run stop` elsewhere must not find this one), and no test bundle:
// what runs here is what `npm start` runs on a machine.
const env: NodeJS.ProcessEnv = { ...process.env, CUTOVER_STACKS_DIR: join(root, 'stacks'), [WORKFLOW_BUNDLE_ENV]: undefined };
const children: ChildProcess[] = [];
let configFile: string | undefined;

beforeAll(async () => {
  await run('npm', ['run', 'build'], { cwd: cutoverRoot, env, timeout: 600_000 }).catch((error: { stdout?: string; stderr?: string }) => {
    throw new Error(`npm run build failed:\n${error.stdout ?? ''}${error.stderr ?? ''}`);
  });
}, 600_000);

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (configFile)
    await run('npm', ['run', 'stop', '--', '--config', configFile], { cwd: cutoverRoot, env, timeout: 120_000 }).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

/** A config on the tests' Temporal server, with a task queue of its own. */
async function writeConfig(name: string): Promise<string> {
  const dir = join(root, name);
  const [apiPort, adminPort, publicPort, previewPort, uiPort] = await Promise.all(Array.from({ length: 5 }, () => portToListenOnLater()));
  const file = join(root, `${name}.yaml`);
  writeFileSync(
    file,
    `stateDir: ${dir}
temporal: { address: "${inject('temporalAddress')}", namespace: default, taskQueue: build-${name}-${process.pid}, uiPort: ${uiPort} }
api: { host: 127.0.0.1, port: ${apiPort} }
environments:
  ${name}:
    host: ${name}-${process.pid}
    router: { adminPort: ${adminPort} }
    sites: [{ name: web, role: zdd, publicPort: ${publicPort}, previewPort: ${previewPort} }]
`,
  );
  return file;
}

/** Every process of the process group a pid leads (start detaches each part into its own group), with its command line. */
function processGroup(leader: number): Array<{ pid: number; cmdline: string }> {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const pgid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
        if (pgid !== leader) return [];
        return [{ pid: Number(name), cmdline: readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim() }];
      } catch {
        return []; // ended meanwhile
      }
    });
}

async function waitForLine(output: () => string, pattern: RegExp, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = output()
      .split('\n')
      .find((l) => pattern.test(l));
    if (line) return line;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${output()}`);
}

describe('npm run build', () => {
  test('compiles every entry point to dist/ as JavaScript with source maps, and writes the workflow bundle', () => {
    const entries = [
      'api/main',
      'worker/main',
      'platform/agent/main',
      'platform/router/main',
      'stack/start',
      'stack/stop',
      'cli/main',
      'packages/unpack-job',
    ];
    for (const entry of entries) {
      expect(existsSync(join(distDir, 'src', `${entry}.js`)), entry).toBe(true);
      expect(existsSync(join(distDir, 'src', `${entry}.js.map`)), entry).toBe(true);
    }
    expect(readFileSync(join(distDir, 'src', 'api', 'main.js'), 'utf8')).toMatch(/^import .* from '@hono\/node-server';$/m); // ESM
    expect(existsSync(join(distDir, 'temporal', 'dev-server.js'))).toBe(true);
    expect(readdirSync(cutoverRoot).filter((name) => /^dist\.(next|old|lock)$/.test(name))).toEqual([]);
  });

  test('the workflow bundle holds the workflows of src/workflows/index.ts, and replays recorded histories as the sources do', async () => {
    const bundle = readFileSync(prebuiltWorkflowBundle, 'utf8');
    const names = Object.keys(workflows);
    expect(names).toEqual(expect.arrayContaining(['deploymentWorkflow', 'environmentWorkflow']));
    for (const name of names) expect(bundle).toContain(name);
    // test/replay guards determinism; here, the bundle must behave exactly as the sources on the same histories.
    const dir = join(cutoverRoot, 'test', 'replay', 'histories');
    const histories = readdirSync(dir)
      .filter((file) => file.endsWith('.json'))
      .map((file) => ({ workflowId: file, history: JSON.parse(readFileSync(join(dir, file), 'utf8')) }));
    const replay = async (options: Parameters<typeof Worker.runReplayHistories>[0]) => {
      const outcomes: Array<[string, string]> = [];
      for await (const r of Worker.runReplayHistories(options, histories))
        outcomes.push([r.workflowId, r.error ? r.error.name : 'replays']);
      return outcomes;
    };
    const fromBundle = await replay({ workflowBundle: { codePath: prebuiltWorkflowBundle } });
    expect(fromBundle.filter(([, outcome]) => outcome === 'replays').length).toBeGreaterThan(0);
    // What a worker of the sources loads (in a test run, the sources bundled once by the global setup).
    expect(fromBundle).toEqual(await replay(workflowCode()));
  }, 180_000);

  test('a worker started from dist/ loads the prebuilt bundle instead of bundling the workflows at start', async () => {
    const config = await writeConfig('worker');
    const child = spawn(process.execPath, [join(distDir, 'src', 'worker', 'main.js'), '--config', config], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const started = JSON.parse(await waitForLine(() => output, /"msg":"worker started/, 120_000));
    expect(started.workflows).toBe(`prebuilt bundle ${prebuiltWorkflowBundle}`);
    // The SDK logs the bundler's work ("Workflow bundle created") when it bundles; here it had nothing to bundle.
    expect(output).not.toMatch(/bundle created|webpack/i);
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection });
      const taskQueue = { name: `build-worker-${process.pid}` };
      const pollers = await client.workflowService.describeTaskQueue({ namespace: 'default', taskQueue, taskQueueType: 1 });
      expect(pollers.pollers?.length).toBeGreaterThan(0);
    } finally {
      await connection.close();
    }
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
  }, 180_000);

  test('npm start runs the compiled stack (API, worker, host agent, router) with no tsx process; npm run stop ends it', async () => {
    configFile = await writeConfig('start');
    const { stdout } = await run('npm', ['start', '--', '--config', configFile], { cwd: cutoverRoot, env, timeout: 300_000 });
    expect(stdout).toContain('Cutover is up');
    const runDir = join(root, 'start', 'run');
    const leaders = Object.fromEntries(
      readdirSync(runDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => [f.slice(0, -'.pid'.length), Number(readFileSync(join(runDir, f), 'utf8'))]),
    );
    // One of each: the API, the worker, the host's agent and its router (agent-<host>, router-<host>).
    const entryOf = (name: string) =>
      ({ api: 'api', worker: 'worker', agent: 'platform/agent', router: 'platform/router' })[name.split('-')[0]!];
    expect(Object.keys(leaders).map(entryOf).sort()).toEqual(['api', 'platform/agent', 'platform/router', 'worker']);
    const processes = Object.values(leaders).flatMap((pid) => processGroup(pid));
    for (const [name, pid] of Object.entries(leaders)) {
      const leader = processes.find((p) => p.pid === pid);
      expect(leader?.cmdline, name).toContain(join(distDir, 'src', `${entryOf(name)}/main.js`));
    }
    for (const p of processes) expect(p.cmdline, `pid ${p.pid}`).not.toMatch(/tsx|\.ts\b/);
    const workerLog = readFileSync(join(root, 'start', 'logs', 'worker.log'), 'utf8');
    expect(workerLog).toContain(`"workflows":"prebuilt bundle ${prebuiltWorkflowBundle}"`);

    // The compiled API serves the docs page's assets itself.
    const api = stdout.match(/^\s+API\s+(http:\/\/\S+)/m)![1]!;
    const script = await fetch(`${api}/docs/swagger-ui-dist/swagger-ui-bundle.js`);
    expect(script.status).toBe(200);
    expect(script.headers.get('content-type')).toMatch(/javascript/);

    const { stdout: stopped } = await run('npm', ['run', 'stop', '--', '--config', configFile], {
      cwd: cutoverRoot,
      env,
      timeout: 120_000,
    });
    expect(stopped).toContain('api: stopped');
    expect(stopped).toContain('worker: stopped');
    configFile = undefined;
    await new Promise((r) => setTimeout(r, 500));
    expect(processes.filter((p) => isAlive(p.pid))).toEqual([]);
  }, 420_000);
});
