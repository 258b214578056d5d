/**
 * A whole Cutover whose slots run on test hosts (network namespaces, netns.ts), each with its own host agent, behind
 * one data plane in the root namespace: the built-in router, or HAProxy / nginx started here from the config Cutover
 * generates for them (npm run data-plane:config), on loopback listeners. close() stops everything it started.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { inject } from 'vitest';
import { createHosts, type TestHost, type TestHosts } from './netns.js';
import { forwardToLoopback, type Forward } from './forward.js';
import { startTestStack, waitForPollers, type StackOptions, type TestStack } from './stack.js';
import { spawnGroup, waitUntil, type GroupProcess } from '../data-plane/support.js';
import { agentEnvironment } from '../../src/platform/agent/environment.js';
import { hostTaskQueue } from '../../src/platform/agent/contract.js';
import { createSlotSupervisor } from '../../src/platform/agent/slots.js';
import { slotsDirOf } from '../../src/platform/agent/activities.js';
import type { DataPlaneAdapter } from '../../src/config/data-plane-schema.js';
import { dataPlaneFor } from '../../src/platform/data-plane/for-environment.js';
import { writeDataPlaneConfig } from '../../src/platform/data-plane/write-config.js';

const agentMain = fileURLToPath(new URL('../../src/platform/agent/main.ts', import.meta.url));

export interface StackOnTestHosts {
  stack: TestStack;
  testHosts: TestHosts;
  adapter: DataPlaneAdapter;
  /** The slots running on a host, from its agent's records. */
  runningOn(host: string): Promise<Array<{ packageVersion: string; databases: string; state: string }>>;
  close(): Promise<void>;
}

export interface StackOnTestHostsOptions {
  hosts?: number;
  /** builtin by default. */
  adapter?: DataPlaneAdapter;
  /** nginx: 0 (no client keep-alive) by default, so a reload closes no idle connection a request is sent on. */
  clientKeepAliveSeconds?: number;
  timeouts?: StackOptions['timeouts'];
}

export async function startStackOnTestHosts(options: StackOnTestHostsOptions = {}): Promise<StackOnTestHosts> {
  const adapter = options.adapter ?? 'builtin';
  const n = options.hosts ?? 3;
  const id = randomBytes(2).toString('hex');
  const forwards: Forward[] = [];
  let proxy: GroupProcess | null = null;
  let stack: TestStack | undefined;
  const testHosts = await createHosts(n, { names: Array.from({ length: n }, (_, i) => `app${id}-${i + 1}`) });

  const close = async () => {
    await stack?.close();
    await proxy?.crash();
    await testHosts.close();
    await Promise.allSettled(forwards.map((f) => f.close()));
  };

  try {
    const root = testHosts.rootAddress;
    const pgPort = inject('pgPort');
    const temporal = await forwardToLoopback(root, Number(inject('temporalAddress').split(':').pop()));
    const postgres = await forwardToLoopback(root, pgPort);
    forwards.push(temporal, postgres);
    const keepAlive = options.clientKeepAliveSeconds ?? 0;
    const dataPlane: Record<DataPlaneAdapter, StackOptions['dataPlane']> = {
      builtin: undefined,
      haproxy: (stateDir) => `{ adapter: haproxy, dir: ${stateDir}/haproxy }`,
      nginx: (stateDir) => `{ adapter: nginx, dir: ${stateDir}/nginx, clientKeepAliveSeconds: ${keepAlive} }`,
    };
    stack = await startTestStack({
      temporalAddress: `${root}:${temporal.port}`,
      databaseUrl: (url) => url.replace(`@127.0.0.1:${pgPort}/`, `@${root}:${postgres.port}/`),
      slotHosts: testHosts.hosts.map((h) => ({ name: h.name, address: h.address })),
      timeouts: options.timeouts ?? { step: '15s', heartbeat: '5s' },
      dataPlane: dataPlane[adapter],
    });
    if (adapter !== 'builtin') proxy = await startProxy(stack);
    const running = stack;
    await Promise.all(testHosts.hosts.map((host) => startAgent(running, host)));
    return {
      stack,
      testHosts,
      adapter,
      async runningOn(host) {
        const slots = await createSlotSupervisor({ slotsDir: slotsDirOf(running.config.stateDir, host) }).list();
        return slots.filter((s) => s.state === 'running');
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** HAProxy or nginx in the foreground, from the config Cutover generated; ready once the data plane answers. */
async function startProxy(stack: TestStack): Promise<GroupProcess> {
  const written = await writeDataPlaneConfig(stack.config, stack.environment);
  const proc = spawnGroup(written.command[0]!, written.command.slice(1));
  const dataPlane = dataPlaneFor(stack.config, stack.environment, stack.env);
  const site = stack.config.environments[stack.environment]!.sites[0]!;
  await waitUntil(`${written.adapter} serves`, async () => (await dataPlane.routes(), listening(site.publicPort)), proc);
  return proc;
}

/** A host agent inside the test host, as its own process, polling its task queue. */
async function startAgent(stack: TestStack, host: TestHost): Promise<ChildProcess> {
  const child = host.exec(process.execPath, ['--import', 'tsx', agentMain, '--host', host.name, '--config', stack.configFile], {
    env: { ...agentEnvironment(stack.config, host.name, stack.env), CUTOVER_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  await waitForPollers(stack.client, hostTaskQueue(host.name), 60_000, 2, child.pid);
  return child;
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
