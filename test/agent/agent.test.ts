/**
 * The host agent through a real Temporal server: a workflow reaches it on cutover-host-<host>.
 * Slots outlive the agent, whether it shuts down or is SIGKILLed, and the next agent re-adopts them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ActivityFailure, ApplicationFailure, Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { afterAll, beforeAll, expect, inject, test } from 'vitest';
import { hostTaskQueue, type HostActivities, type SlotInfo, type SlotSpec, type WarmUpResult } from '../../src/platform/agent/contract.js';
import { startHostAgent, type HostAgent } from '../../src/platform/agent/main.js';
import { agentTestSetup, importTestPackage, slotLogTail, suffix, type AgentTestSetup } from './fixtures.js';
import { callHostActivity } from './workflows.js';

const id = suffix();
const environment = 'shop';
const workflowQueue = `agent-test-workflows-${id}`;
let setup: AgentTestSetup;
let connection: NativeConnection;
let clientConnection: Connection;
let client: Client;
let workflowWorker: Worker;
let workflowsRunning: Promise<void>;
let okSha: string;
let forbiddenSha: string;
const agents: Array<{ agent: HostAgent; running: Promise<void> }> = [];
const children: ChildProcess[] = [];

async function call<K extends keyof HostActivities>(
  activity: K,
  input: Parameters<HostActivities[K]>[0],
): Promise<Awaited<ReturnType<HostActivities[K]>>> {
  const result = await client.workflow.execute(callHostActivity, {
    taskQueue: workflowQueue,
    workflowId: `agent-test-${id}-${activity}-${suffix()}`,
    args: [hostTaskQueue(setup.host), activity, input],
    workflowExecutionTimeout: '1 minute',
  });
  return result as Awaited<ReturnType<HostActivities[K]>>;
}

async function startInProcessAgent(): Promise<HostAgent> {
  const agent = await startHostAgent({ config: setup.config, host: setup.host, connection });
  agents.push({ agent, running: agent.run() });
  return agent;
}

async function stopInProcessAgent(agent: HostAgent) {
  agent.shutdown();
  await agents.find((a) => a.agent === agent)!.running;
}

/** The agent as a real process, as operators run it (node --import tsx: one process, so SIGKILL kills the agent itself). */
async function startAgentProcess(): Promise<ChildProcess & { output(): string }> {
  const main = fileURLToPath(new URL('../../src/platform/agent/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, '--host', setup.host, '--config', setup.configFile], {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH, CUTOVER_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start:\n${output}`)), 30_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('host agent running')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`agent exited with ${code}:\n${output}`)));
  });
  return Object.assign(child, { output: () => output });
}

async function get(port: number) {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  return { status: response.status, text: await response.text() };
}

beforeAll(async () => {
  setup = agentTestSetup({ host: `agent-${id}`, environment, temporalAddress: inject('temporalAddress') });
  okSha = (await importTestPackage(setup.store, 'ok')).ref.sha256;
  forbiddenSha = (await importTestPackage(setup.store, 'forbidden')).ref.sha256;
  connection = await NativeConnection.connect({ address: inject('temporalAddress') });
  clientConnection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection: clientConnection });
  workflowWorker = await Worker.create({
    connection,
    taskQueue: workflowQueue,
    workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)),
  });
  workflowsRunning = workflowWorker.run();
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  // Slots outlive agents by design: stop what the tests left, through an agent that runs.
  if (setup && connection && !agents.some((a) => a.agent.worker.getState() === 'RUNNING')) await startInProcessAgent();
  if (setup) {
    for (const slot of await call('listSlots', { environment }).catch(() => [] as SlotInfo[]))
      await call('stopSlot', { slotId: slot.slotId, graceMs: 2000 });
  }
  for (const { agent } of agents) agent.shutdown();
  await Promise.allSettled(agents.map((a) => a.running));
  workflowWorker?.shutdown();
  await workflowsRunning;
  await clientConnection?.close();
  await connection?.close();
});

test('start → warm up → list, through Temporal; the slot outlives a shutdown agent and a SIGKILLed one', async () => {
  const first = await startInProcessAgent();
  const spec: SlotSpec = { environment, site: 'web', packageSha256: okSha, databases: 'original', readOnly: false };
  const slot = await call('startSlot', spec);
  expect(slot).toMatchObject({ state: 'running', packageVersion: '1.0.0', exitCode: null });
  const warm: WarmUpResult = await call('warmUpSlot', { slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 });
  expect(warm.status).toBe(200);
  expect(await call('listSlots', { environment })).toEqual([slot]);
  expect(await call('startSlot', spec)).toEqual(slot);

  // A graceful agent shutdown leaves the slot serving.
  await stopInProcessAgent(first);
  expect(await get(slot.port)).toEqual({ status: 200, text: `ok ${slot.pid}` });

  // An agent running as its own process re-adopts it; SIGKILL of that agent leaves the slot serving too.
  const agentProcess = await startAgentProcess();
  expect(await call('listSlots', { environment })).toEqual([slot]);
  const second = await call('startSlot', { ...spec, databases: 'temporary' });
  expect(second.pid).not.toBe(slot.pid);
  expect((await call('warmUpSlot', { slotId: second.slotId, path: '/healthz', timeoutMs: 10_000 })).status).toBe(200);
  agentProcess.kill('SIGKILL');
  await new Promise((resolve) => agentProcess.once('exit', resolve));
  expect(await get(slot.port)).toEqual({ status: 200, text: `ok ${slot.pid}` });
  expect(await get(second.port)).toEqual({ status: 200, text: `ok ${second.pid}` });

  // The next agent re-adopts both (the one the killed agent started included) and can stop them.
  await startInProcessAgent();
  const listed = await call('listSlots', { environment });
  expect(listed.map((s) => [s.slotId, s.pid, s.port, s.state])).toEqual(
    [slot, second].sort((a, b) => a.slotId.localeCompare(b.slotId)).map((s) => [s.slotId, s.pid, s.port, 'running']),
  );
  expect(await call('stopSlot', { slotId: slot.slotId, graceMs: 2000 })).toEqual({ stopped: true });
  expect(await call('stopSlot', { slotId: slot.slotId, graceMs: 2000 })).toEqual({ stopped: false });
  await expect(get(slot.port)).rejects.toThrow();
  expect((await call('listSlots', { environment })).map((s) => s.slotId)).toEqual([second.slotId]);
  expect(await slotLogTail(setup, slot.slotId, 3)).toContain('SIGTERM: bye');
  expect(await call('stopSlot', { slotId: second.slotId, graceMs: 2000 })).toEqual({ stopped: true });
});

test('a warm-up failure reaches the workflow as a non-retryable ApplicationFailure typed with its class', async () => {
  if (!agents.some((a) => a.agent.worker.getState() === 'RUNNING')) await startInProcessAgent();
  const slot = await call('startSlot', { environment, site: 'web', packageSha256: forbiddenSha, databases: 'original', readOnly: false });
  const error = await call('warmUpSlot', { slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(WorkflowFailedError);
  const activityFailure = (error as WorkflowFailedError).cause;
  expect(activityFailure).toBeInstanceOf(ActivityFailure);
  const cause = (activityFailure as ActivityFailure).cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect(cause).toMatchObject({ type: 'ip-forbidden', nonRetryable: true });
  expect((cause as ApplicationFailure).message).toContain('HTTP 403');
  expect(await call('stopSlot', { slotId: slot.slotId, graceMs: 2000 })).toEqual({ stopped: true });
});

test('SIGTERM stops the agent process gracefully; its slots keep serving', async () => {
  const agentProcess = await startAgentProcess();
  const slot = await call('startSlot', { environment, site: 'web', packageSha256: okSha, databases: 'original', readOnly: false });
  expect((await call('warmUpSlot', { slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 })).status).toBe(200);
  // It runs activities only, by design: the SDK's note that it polls no workflow tasks is not logged as a warning.
  expect(agentProcess.output()).toContain('host agent running');
  expect(agentProcess.output()).not.toContain('No workflows registered');
  const exited = new Promise<number | null>((resolve) => agentProcess.once('exit', (code) => resolve(code)));
  agentProcess.kill('SIGTERM');
  expect(await exited).toBe(0);
  expect(await get(slot.port)).toEqual({ status: 200, text: `ok ${slot.pid}` });
});
