import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/process/free-port.js';
import { startDevServer } from '../../temporal/dev-server.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { startTraffic } from '../support/traffic.js';

let server: ChildProcess;
let stack: TestStack;
let options: Parameters<typeof startDevServer>[0];

async function startServer() {
  server = startDevServer(options);
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    try {
      const connection = await Connection.connect({ address: `127.0.0.1:${options.port}`, connectTimeout: '1s' });
      await new Client({ connection }).workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw new Error('the Temporal dev server did not start');
}

async function stopServer(signal: NodeJS.Signals) {
  const exited = new Promise((r) => server.once('exit', r));
  server.kill(signal);
  await exited;
}

beforeAll(async () => {
  options = {
    dataDir: mkdtempSync(join(tmpdir(), 'cutover-temporal-')),
    port: await freePort(),
    uiPort: await freePort(),
    namespace: 'default',
  };
  await startServer();
  stack = await startTestStack({ temporalAddress: `127.0.0.1:${options.port}`, timeouts: { step: '10s', heartbeat: '5s' } });
  await stack.deployAndComplete('examples/demo-app/v1');
}, 180_000);
afterAll(async () => {
  await stack?.close();
  if (server && server.exitCode === null) await stopServer('SIGTERM');
  rmSync(options.dataDir, { recursive: true, force: true });
});

describe('the Temporal server restarts mid-deployment', () => {
  test('the deployment finishes, public reads are served throughout', async () => {
    const traffic = startTraffic(stack.publicUrl(), { readers: 2 });
    const id = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(id, ['clone', 'enter-maintenance', 'upgrade', 'warmup', 'awaiting-verification']);
    await stopServer('SIGKILL');
    await new Promise((r) => setTimeout(r, 2000));
    await startServer();
    await stack.waitForPhase(id, ['awaiting-verification'], 120_000);
    // Once more while it waits for a person.
    await stopServer('SIGTERM');
    await startServer();
    await stack.api('POST', `/v1/deployments/${id}/complete`, {});
    await stack.waitForPhase(id, ['completed'], 120_000);
    const report = await traffic.stop();
    expect(report.failedReads).toEqual([]);
    expect(report.failedWrites).toEqual([]);
    const stored = new Set((await stack.sql<{ body: string }>('select body from notes')).map((r) => r.body));
    expect(report.acceptedWrites.filter((b) => !stored.has(b))).toEqual([]);
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('2.0.0');
  }, 240_000);
});
