import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { freePort } from '../../src/process/free-port.js';
import { ROOT } from './compose-file.js';

/** The compose healthcheck script, run as the container runs it; resolves with its exit code and output. */
function healthcheck(part: string, config: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      'node',
      ['deploy/compose/healthcheck.mjs', part],
      { cwd: ROOT, env: { ...process.env, CUTOVER_CONFIG: config }, timeout: 30_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('deploy/compose/healthcheck.mjs against a real Temporal server', () => {
  const suffix = randomBytes(4).toString('hex');
  const taskQueue = `compose-health-${suffix}`;
  const host = `health-${suffix}`;
  let dir: string;
  let config: string;
  let router: Server | undefined;
  let adminPort: number;
  let connection: Connection;
  const polls = new AbortController();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cutover-health-'));
    adminPort = await freePort();
    config = join(dir, 'cutover.yaml');
    await writeFile(
      config,
      [
        `stateDir: ${dir}`,
        `temporal: { address: "${inject('temporalAddress')}", namespace: default, taskQueue: ${taskQueue} }`,
        'environments:',
        '  demo:',
        `    host: ${host}`,
        `    router: { adminPort: ${adminPort} }`,
        '    sites: [{ name: web, role: zdd, publicPort: 18080, previewPort: 18081 }]',
      ].join('\n'),
    );
    connection = await Connection.connect({ address: inject('temporalAddress') });
  });

  afterAll(async () => {
    polls.abort();
    router?.close();
    await connection.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A long poll registers a poller on the queue, as a running worker or host agent does. */
  function pollInBackground(kind: 'workflow' | 'activity', name: string): void {
    const request = { namespace: 'default', taskQueue: { name }, identity: `healthcheck-test-${kind}` };
    void connection
      .withAbortSignal(polls.signal, () =>
        // A long poll needs a deadline; the server answers empty just before it.
        connection.withDeadline(Date.now() + 70_000, async (): Promise<unknown> =>
          kind === 'workflow'
            ? connection.workflowService.pollWorkflowTaskQueue(request)
            : connection.workflowService.pollActivityTaskQueue(request),
        ),
      )
      .catch(() => undefined);
  }

  test('worker: unhealthy while nothing polls the task queue, healthy once a worker does', async () => {
    expect((await healthcheck('worker', config)).code).toBe(1);
    pollInBackground('workflow', taskQueue);
    await expect.poll(async () => (await healthcheck('worker', config)).code, { timeout: 20_000, interval: 500 }).toBe(0);
  });

  test('platform: needs both the router answering and the host agent polling', async () => {
    pollInBackground('activity', `cutover-host-${host}`);
    const withoutRouter = await healthcheck('platform', config);
    expect(withoutRouter.code).toBe(1);
    router = createServer((req, res) => res.writeHead(req.url === '/healthz' ? 200 : 404).end('{}'));
    await new Promise<void>((resolve) => router!.listen(adminPort, '127.0.0.1', resolve));
    await expect.poll(async () => (await healthcheck('platform', config)).code, { timeout: 20_000, interval: 500 }).toBe(0);
  });

  test('an unknown part is a failure that says what it expected', async () => {
    const result = await healthcheck('database', config);
    expect(result.code).toBe(1);
    expect(result.output).toMatch(/unknown part "database": expected worker or platform/);
  });
});
