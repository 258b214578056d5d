import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { routerClient, sleep, slot, startUpstream, testEnvironment, type TestEnvironment, type Upstream } from './support.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));

interface RouterProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The router as the stack runs it: its own Node process, knowing only the config file. */
function spawnRouter(
  configFile: string,
  host = 'local',
  processEnv: NodeJS.ProcessEnv = { ...process.env, ...env.processEnv },
): RouterProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/platform/router/main.ts', '--host', host, '--config', configFile], {
    cwd: repo,
    env: processEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  running.add(child);
  void exited.then(() => running.delete(child));
  return { child, output: () => output, exited };
}

const running = new Set<ChildProcess>();

async function waitUntilServing(router: RouterProcess, adminUrl: string) {
  const deadline = performance.now() + 30_000;
  let exited = false;
  void router.exited.then(() => (exited = true));
  for (;;) {
    if (exited) throw new Error(`router exited before serving:\n${router.output()}`);
    try {
      if ((await fetch(`${adminUrl}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (performance.now() > deadline) throw new Error(`router did not serve within 30 s:\n${router.output()}`);
    await sleep(50);
  }
}

let env: TestEnvironment;
let configFile: string;
let adminUrl: string;
let a: Upstream;
let b: Upstream;

beforeAll(async () => {
  env = await testEnvironment();
  configFile = join(env.stateDir, 'cutover.yaml');
  await writeFile(configFile, env.configText);
  adminUrl = `http://127.0.0.1:${env.ports.admin}`;
  a = await startUpstream('slot-a', (req, res) => {
    const ms = req.url === '/slow' ? 800 : 0;
    setTimeout(() => res.end(req.url === '/slow' ? 'slow-slot-a' : 'slot-a'), ms);
  });
  b = await startUpstream('slot-b');
});

afterEach(async () => {
  for (const child of running) child.kill('SIGKILL');
  await sleep(50);
});

afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await env?.cleanup();
});

describe('the router process', () => {
  test('routes survive a SIGKILL: a restarted router serves the same routes', async () => {
    const first = spawnRouter(configFile);
    await waitUntilServing(first, adminUrl);
    const client = routerClient(adminUrl, env);
    await client.setLive('shop', slot(a));
    await client.setPreview('shop', slot(b));
    await client.setLive('backoffice', { kind: 'maintenance', message: 'Nightly upgrade' });
    const before = await client.getRoutes();
    const shop = `http://127.0.0.1:${env.ports.shop.public}/`;
    expect(await (await fetch(shop)).text()).toBe('slot-a');

    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await expect(fetch(shop)).rejects.toThrow();

    const second = spawnRouter(configFile);
    await waitUntilServing(second, adminUrl);
    expect(await client.getRoutes()).toEqual(before);
    expect(await (await fetch(shop)).text()).toBe('slot-a');
    expect(await (await fetch(`http://127.0.0.1:${env.ports.shop.preview}/`)).text()).toBe('slot-b');
    const maintenance = await fetch(`http://127.0.0.1:${env.ports.backoffice.public}/`);
    expect(maintenance.status).toBe(503);
    expect(await maintenance.text()).toContain('Nightly upgrade');

    // It logs JSON lines saying where it listens.
    const started = second
      .output()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { msg: string; adminUrl?: string })
      .find((line) => line.adminUrl);
    expect(started).toMatchObject({ adminUrl, msg: `router of host local listening for acme; admin API on ${adminUrl}` });
  });

  test('SIGTERM stops accepting, lets the request in flight finish, then exits 0', async () => {
    const router = spawnRouter(configFile);
    await waitUntilServing(router, adminUrl);
    await routerClient(adminUrl, env).setLive('shop', slot(a));
    const shop = `http://127.0.0.1:${env.ports.shop.public}`;
    a.arrivals.length = 0;
    const slow = fetch(`${shop}/slow`).then(async (r) => ({ status: r.status, body: await r.text() }));
    while (a.arrivals.length === 0) await sleep(5);

    router.child.kill('SIGTERM');
    await sleep(200);
    await expect(fetch(`${shop}/`, { headers: { connection: 'close' } })).rejects.toThrow();
    expect(await slow).toEqual({ status: 200, body: 'slow-slot-a' });
    expect(await router.exited).toEqual({ code: 0, signal: null });
  });

  test('without its admin secret in the environment the router refuses to start, naming the variable', async () => {
    const withoutToken = { ...process.env };
    delete withoutToken.CUTOVER_ROUTER_TOKEN;
    const router = spawnRouter(configFile, 'local', withoutToken);
    expect((await router.exited).code).toBe(1);
    expect(router.output()).toContain('the environment variable CUTOVER_ROUTER_TOKEN is not set: the router admin API needs a secret');
    const short = spawnRouter(configFile, 'local', { ...withoutToken, CUTOVER_ROUTER_TOKEN: 'secret' });
    expect((await short.exited).code).toBe(1);
    expect(short.output()).toContain('the environment variable CUTOVER_ROUTER_TOKEN is too short');
    expect(short.output()).not.toContain('"secret"');
    // Nothing listened meanwhile.
    await expect(fetch(`${adminUrl}/healthz`)).rejects.toThrow();
  });

  test('a host no environment runs on is refused with a clear message', async () => {
    const router = spawnRouter(configFile, 'staging');
    expect((await router.exited).code).toBe(1);
    expect(router.output()).toContain('no environment of the config runs on host \\"staging\\"; its hosts are: local');
  });
});
