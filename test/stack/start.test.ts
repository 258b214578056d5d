import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { portToListenOnLater } from '../support/listen-port.js';
import { isAlive } from '../../src/stack/processes.js';
import { WORKFLOW_BUNDLE_ENV } from '../../src/worker/workflow-code.js';

const run = promisify(execFile);
const stateDir = mkdtempSync(join(tmpdir(), 'cutover-start-'));
const configFile = join(stateDir, 'cutover.yaml');
// Its own list of started stacks: a plain `npm run stop` elsewhere must not find this one. No test workflow bundle:
// the worker loads the build's, as on a fresh clone.
const env = { ...process.env, CUTOVER_STACKS_DIR: join(stateDir, 'stacks'), [WORKFLOW_BUNDLE_ENV]: undefined };
let pids: number[] = [];

afterAll(async () => {
  await run(process.execPath, ['--import', 'tsx', 'src/stack/stop.ts', '--config', configFile], { env }).catch(() => undefined);
  // As root, the demo's cluster may live outside the state dir (see reachableClusterRoot): remove it too.
  const pointer = join(stateDir, 'postgres', 'location');
  if (existsSync(pointer)) rmSync(readFileSync(pointer, 'utf8').trim(), { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

describe('npm start / npm run demo', () => {
  test('brings the whole stack up, the Web UI answers, the demo leaves v2 awaiting verification, stop ends it all', async () => {
    const [temporalPort, uiPort, apiPort, adminPort, publicPort, previewPort] = await Promise.all(
      Array.from({ length: 6 }, () => portToListenOnLater()),
    );
    writeFileSync(
      configFile,
      `stateDir: ${stateDir}
temporal: { address: 127.0.0.1:${temporalPort}, namespace: default, taskQueue: cutover, uiPort: ${uiPort} }
api: { host: 127.0.0.1, port: ${apiPort} }
environments:
  demo:
    router: { adminPort: ${adminPort} }
    sites: [{ name: web, role: zdd, publicPort: ${publicPort}, previewPort: ${previewPort} }]
    databases: [{ name: app, engine: postgres, connectionEnv: CUTOVER_START_TEST_DATABASE_URL }]
`,
    );
    // The README's command: builds dist/ when it is missing or stale, then runs the compiled stack.
    const { stdout } = await run('npm', ['run', 'demo', '--', '--config', configFile], { timeout: 600_000, env });
    expect(stdout).toContain(`Temporal Web UI     http://127.0.0.1:${uiPort}`);
    expect(stdout).toContain(`API                 http://127.0.0.1:${apiPort}`);
    expect(stdout).toContain('started a local PostgreSQL for the demo');
    expect(stdout).toMatch(/Deployment demo-\S+ is awaiting-verification\./);
    expect(stdout).toContain(`/complete`);

    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).status).toBe(200);
    const health = await fetch(`http://127.0.0.1:${apiPort}/health`);
    expect(health.status).toBe(200);
    const pub = await fetch(`http://127.0.0.1:${publicPort}/notes`);
    expect(pub.headers.get('x-app-version')).toBe('1.0.0');
    expect(pub.headers.get('x-slot')).toMatch(/\.temporary$/);
    expect((await fetch(`http://127.0.0.1:${previewPort}/notes`)).headers.get('x-app-version')).toBe('2.0.0');

    const runDir = join(stateDir, 'run');
    pids = readdirSync(runDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(runDir, f), 'utf8')));
    expect(pids.length).toBeGreaterThanOrEqual(6); // temporal, postgres, router, agent, worker, api
    const slotsDir = join(stateDir, 'hosts', 'local', 'slots');
    const slots = readdirSync(slotsDir)
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(slotsDir, f), 'utf8')));
    const running = slots.filter((s) => s.state === 'running');
    const slotPids = running.map((s) => Number(s.pid));
    expect(slotPids.length).toBeGreaterThanOrEqual(2); // v1 on the clone, v2 on the original
    pids.push(...slotPids);
    const stopArgs = ['--import', 'tsx', 'src/stack/stop.ts', '--config', configFile];
    const { stdout: stopped } = await run(process.execPath, stopArgs, { timeout: 120_000, env });
    expect(stopped).toContain('api: stopped');
    expect(stopped).toContain('temporal: stopped');
    for (const slot of running) expect(stopped).toContain(`slot ${slot.slotId}: stopped`);
    await new Promise((r) => setTimeout(r, 500));
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);
    await expect(fetch(`http://127.0.0.1:${publicPort}/notes`)).rejects.toThrow();
  }, 720_000);
});
