/**
 * Stops what `npm start` started, traffic-serving processes last. With --config, that stack; without, every stack
 * started from this checkout (start records each) and the default config's. It always says what it stopped, or
 * that nothing was running and where it looked.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { configPath, loadConfig } from '../config/load.js';
import { isSameProcessAlive, signalGroup } from '../platform/agent/proc.js';
import { createSlotSupervisor, type SlotRecord } from '../platform/agent/slots.js';
import { stopProcess } from './processes.js';
import { forgetStartedStack, startedStacks, startedStacksDir, type StartedStack } from './started-stacks.js';

const PROCESS_GRACE_MS = 15_000;
const SLOT_GRACE_MS = 10_000;

/** A stack to stop, and why stop looks at it. */
interface Candidate extends StartedStack {
  found: string;
}

const order = (name: string) =>
  name === 'api' ? 0 : name === 'worker' ? 1 : name.startsWith('agent-') ? 2 : name.startsWith('router-') ? 3 : name === 'temporal' ? 4 : 5;

const pidNames = (stateDir: string): string[] => {
  const runDir = join(stateDir, 'run');
  return existsSync(runDir)
    ? readdirSync(runDir)
        .filter((f) => f.endsWith('.pid'))
        .map((f) => f.slice(0, -'.pid'.length))
    : [];
};

const slotDirs = (stateDir: string): string[] => {
  const hostsDir = join(stateDir, 'hosts');
  return existsSync(hostsDir)
    ? readdirSync(hostsDir)
        .map((host) => join(hostsDir, host, 'slots'))
        .filter((dir) => existsSync(dir))
    : [];
};

async function gone(slot: SlotRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isSameProcessAlive(slot.pid, slot.processStartTime)) {
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Slots are detached so that they outlive the agent; stopping the whole stack stops them too (their records stay, as exited). */
async function stopSlots(slotsDir: string, report: (line: string) => void): Promise<number> {
  const slots = createSlotSupervisor({ slotsDir });
  const running = (await slots.list()).filter((slot) => slot.state === 'running');
  for (const slot of running) signalGroup(slot.pid, 'SIGTERM');
  for (const slot of running) {
    if (!(await gone(slot, SLOT_GRACE_MS))) {
      signalGroup(slot.pid, 'SIGKILL');
      await gone(slot, 5_000);
    }
    signalGroup(slot.pid, 'SIGKILL'); // what else the slot started in its group
    report(`slot ${slot.slotId}: stopped`);
  }
  await slots.list(); // records the exits
  return running.length;
}

/** Stops one stack; returns how many processes and slots were running. */
async function stopStack(stateDir: string, report: (line: string) => void): Promise<number> {
  const names = pidNames(stateDir).sort((a, b) => order(a) - order(b));
  let stopped = 0;
  const stop = async (name: string) => {
    // PostgreSQL's fast shutdown (SIGINT) disconnects clients instead of waiting for them.
    const wasRunning = await stopProcess(stateDir, name, PROCESS_GRACE_MS, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
    if (wasRunning) stopped++;
    report(`${name}: ${wasRunning ? 'stopped' : 'was not running (stale pid file removed)'}`);
  };
  for (const name of names.filter((n) => order(n) <= 2)) await stop(name);
  for (const slotsDir of slotDirs(stateDir)) stopped += await stopSlots(slotsDir, report);
  for (const name of names.filter((n) => order(n) > 2)) await stop(name);
  return stopped;
}

function candidates(explicit: string | undefined): { stacks: Candidate[]; notes: string[] } {
  const recorded = startedStacks();
  const registry = startedStacksDir();
  if (explicit !== undefined) {
    const file = configPath(explicit);
    try {
      return { stacks: [{ config: file, stateDir: loadConfig(file).stateDir, found: 'given with --config' }], notes: [] };
    } catch (error) {
      // The file may be gone or edited since: the state dir recorded at start still tells where the processes are.
      const known = recorded.find((stack) => stack.config === file);
      if (!known) throw error;
      return { stacks: [{ ...known, found: `recorded in ${registry} when it started; the config cannot be read now` }], notes: [] };
    }
  }
  const stacks: Candidate[] = recorded.map((stack) => ({ ...stack, found: `recorded in ${registry} when it started` }));
  const notes: string[] = [];
  const defaultFile = configPath();
  try {
    const { stateDir } = loadConfig(defaultFile);
    if (!stacks.some((stack) => stack.stateDir === stateDir)) stacks.push({ config: defaultFile, stateDir, found: 'the default config' });
  } catch (error) {
    const reason = existsSync(defaultFile)
      ? `the default config cannot be read: ${(error as Error).message}`
      : `there is no default config ${defaultFile}`;
    notes.push(reason);
  }
  return { stacks, notes };
}

async function main() {
  const args = process.argv.slice(2);
  const explicit = args.find((_, i) => args[i - 1] === '--config');
  const { stacks, notes } = candidates(explicit);
  let stopped = 0;
  for (const stack of stacks) {
    if (pidNames(stack.stateDir).length > 0 || slotDirs(stack.stateDir).length > 0) {
      console.log(`Stopping Cutover of config ${stack.config} (state in ${stack.stateDir}):`);
      stopped += await stopStack(stack.stateDir, (line) => console.log(`  ${line}`));
    }
    forgetStartedStack(stack.stateDir);
  }
  if (stopped > 0) return;
  const where = 'Nothing was running. Looked for pid files (run/) and slot records (hosts/*/slots/) in:';
  console.log(stacks.length > 0 ? where : 'Nothing was running:');
  for (const stack of stacks) console.log(`  ${stack.stateDir}  (config ${stack.config}: ${stack.found})`);
  if (stacks.length === 0) console.log(`  no stack started from this checkout is recorded in ${startedStacksDir()}`);
  for (const note of notes) console.log(`  ${note}`);
  if (explicit === undefined) console.log('Started with a config elsewhere? npm run stop -- --config <file>');
}

main().catch((error) => {
  console.error(`cutover stop failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
