/**
 * `npm run stop` finds what `npm start -- --config X` started, without being told X, and never stops nothing silently:
 * it names what it stopped, or says that nothing was running and where it looked.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, test } from 'vitest';
import { portToListenOnLater } from '../support/listen-port.js';
import { isAlive } from '../../src/stack/processes.js';

const exec = promisify(execFile);
const root = mkdtempSync(join(tmpdir(), 'cutover-stop-'));
const stacksDir = join(root, 'stacks');

async function writeConfig(name: string): Promise<{ file: string; stateDir: string }> {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  const ports = await Promise.all(Array.from({ length: 6 }, () => portToListenOnLater()));
  const [temporalPort, uiPort, apiPort, adminPort, publicPort, previewPort] = ports;
  const file = join(dir, 'cutover.yaml');
  const stateDir = join(dir, 'state');
  writeFileSync(
    file,
    `stateDir: ${stateDir}
temporal: { address: 127.0.0.1:${temporalPort}, namespace: default, taskQueue: cutover, uiPort: ${uiPort} }
api: { host: 127.0.0.1, port: ${apiPort} }
environments:
  ${name}:
    router: { adminPort: ${adminPort} }
    sites: [{ name: web, role: zdd, publicPort: ${publicPort}, previewPort: ${previewPort} }]
`,
  );
  return { file, stateDir };
}

/** Runs start.ts or stop.ts as `npm start` / `npm run stop` do; CUTOVER_CONFIG stands for the checkout's own cutover.yaml. */
function script(name: 'start' | 'stop', args: string[], env: { defaultConfig: string; stacksDir?: string }, timeout = 120_000) {
  return exec(process.execPath, ['--import', 'tsx', `src/stack/${name}.ts`, ...args], {
    timeout,
    env: { ...process.env, CUTOVER_CONFIG: env.defaultConfig, CUTOVER_STACKS_DIR: env.stacksDir ?? stacksDir },
  });
}

const started: string[] = [];
afterAll(async () => {
  for (const file of started) await script('stop', ['--config', file], { defaultConfig: file }).catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

describe('npm run stop', () => {
  test('without --config, it stops the stack `npm start -- --config X` started, names each process, and the pids are gone', async () => {
    const x = await writeConfig('elsewhere');
    // The default config (the checkout's cutover.yaml) is valid but nothing of it runs: before, stop looked only there.
    const defaults = await writeConfig('default');
    started.push(x.file);
    await script('start', ['--config', x.file], { defaultConfig: defaults.file }, 240_000);
    const runDir = join(x.stateDir, 'run');
    const pids = readdirSync(runDir)
      .filter((f) => f.endsWith('.pid'))
      .map((f) => Number(readFileSync(join(runDir, f), 'utf8')));
    expect(pids.length).toBeGreaterThanOrEqual(5); // temporal, router, agent, worker, api
    expect(pids.filter((pid) => isAlive(pid))).toEqual(pids);

    const { stdout } = await script('stop', [], { defaultConfig: defaults.file });
    expect(stdout).toContain(`Stopping Cutover of config ${x.file} (state in ${x.stateDir}):`);
    for (const name of ['api', 'worker', 'agent-local', 'router-local', 'temporal']) expect(stdout).toContain(`  ${name}: stopped`);
    const deadline = Date.now() + 10_000;
    while (pids.some((pid) => isAlive(pid)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(pids.filter((pid) => isAlive(pid))).toEqual([]);

    // Stopped stacks are forgotten: the next stop says nothing ran, and where it looked.
    const again = await script('stop', [], { defaultConfig: defaults.file });
    expect(again.stdout).toContain('Nothing was running. Looked for pid files (run/) and slot records (hosts/*/slots/) in:');
    expect(again.stdout).toContain(`${defaults.stateDir}  (config ${defaults.file}: the default config)`);
    expect(again.stdout).not.toContain(x.stateDir);
    expect(again.stdout).toContain('Started with a config elsewhere? npm run stop -- --config <file>');
  }, 300_000);

  test('when nothing was started it says so, where it looked, and what it would need', async () => {
    const empty = join(root, 'no-stacks');
    const missing = join(root, 'no-such-dir', 'cutover.yaml');
    const none = await script('stop', [], { defaultConfig: missing, stacksDir: empty });
    expect(none.stdout).toBe(
      'Nothing was running:\n' +
        `  no stack started from this checkout is recorded in ${empty}\n` +
        `  there is no default config ${missing}\n` +
        'Started with a config elsewhere? npm run stop -- --config <file>\n',
    );

    const idle = await writeConfig('idle');
    const named = await script('stop', ['--config', idle.file], { defaultConfig: missing, stacksDir: empty });
    expect(named.stdout).toBe(
      'Nothing was running. Looked for pid files (run/) and slot records (hosts/*/slots/) in:\n' +
        `  ${idle.stateDir}  (config ${idle.file}: given with --config)\n`,
    );
  });
});
