import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';

/** The Temporal SDK's metrics endpoint of the worker and the host agent: loopback only, and a port in use is said. */
const repo = fileURLToPath(new URL('../..', import.meta.url));
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-sdk-metrics-'));
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const configText = (worker: string) => `
stateDir: ${dir}
temporal: { address: ${inject('temporalAddress')}, taskQueue: sdk-metrics-${process.pid} }
worker: ${worker}
environments:
  acme:
    router: { adminPort: 7999 }
    sites: [{ name: shop, role: zdd, publicPort: 7998, previewPort: 7997 }]
`;

/** Runs a program of Cutover until it exits (or `stopWhen` holds, then SIGTERM); its exit code and output. */
function runProgram(args: string[], stopWhen?: () => Promise<boolean>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
      cwd: repo,
      env: { ...process.env, CUTOVER_LOG_LEVEL: 'warn', CUTOVER_ROUTER_TOKEN: 'x'.repeat(40) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    let watching = stopWhen !== undefined;
    child.once('exit', (code) => {
      watching = false;
      clearTimeout(killer);
      resolve({ code, output });
    });
    void (async () => {
      while (watching) {
        if (await stopWhen!().catch(() => false)) return void child.kill('SIGTERM');
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
  });
}

describe('worker.metricsAddress', () => {
  test('accepts loopback addresses only, naming the field', () => {
    const file = '/tmp/cutover-sdk-metrics.yaml';
    expect(parseConfig(configText('{ metricsAddress: 127.0.0.1:9464 }'), file).worker.metricsAddress).toBe('127.0.0.1:9464');
    expect(parseConfig(configText("{ metricsAddress: '[::1]:9464' }"), file).worker.metricsAddress).toBe('[::1]:9464');
    expect(parseConfig(configText('{}'), file).worker.metricsAddress).toBeUndefined();
    for (const [address, problem] of [
      ['0.0.0.0:9464', 'must be a loopback address and port'],
      ['10.0.0.5:9464', 'must be a loopback address and port'],
      ['127.0.0.1', 'must be a loopback address and port'],
      ['127.0.0.1:70000', 'must end with a port between 1 and 65535'],
    ]) {
      expect(() => parseConfig(configText(`{ metricsAddress: '${address}' }`), file)).toThrow(ConfigError);
      expect(() => parseConfig(configText(`{ metricsAddress: '${address}' }`), file)).toThrow(`worker.metricsAddress: ${problem}`);
    }
  });

  test('a port in use stops the worker with a message naming the setting', async () => {
    const taken: Server = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const configFile = join(dir, 'taken.yaml');
      await writeFile(configFile, configText(`{ metricsAddress: 127.0.0.1:${port} }`));
      const { code, output } = await runProgram(['src/worker/main.ts', '--config', configFile]);
      expect(code).toBe(1);
      expect(output).toContain(`worker.metricsAddress 127.0.0.1:${port}: the Temporal SDK's metrics endpoint did not start`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});

describe('the host agent with --metrics-address', () => {
  test('serves the SDK metrics of its task queue', async () => {
    const port = await freePort();
    const configFile = join(dir, 'agent.yaml');
    await writeFile(configFile, configText('{}'));
    let metrics = '';
    const polling = async () => {
      metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return metrics.includes('temporal_num_pollers{') && metrics.includes('task_queue="cutover-host-local"');
    };
    const { output } = await runProgram(
      ['src/platform/agent/main.ts', '--host', 'local', '--config', configFile, '--metrics-address', `127.0.0.1:${port}`],
      polling,
    );
    expect(metrics, output).toContain('task_queue="cutover-host-local"');
    expect(metrics).toMatch(/^temporal_worker_start_total\{.*task_queue="cutover-host-local".*\} 1$/m);
  });

  test('refuses an address beyond loopback before starting', async () => {
    const { code, output } = await runProgram(['src/platform/agent/main.ts', '--host', 'local', '--metrics-address', '0.0.0.0:9465']);
    expect(code).toBe(2);
    expect(output).toContain('--metrics-address: must be a loopback address and port');
  });
});
