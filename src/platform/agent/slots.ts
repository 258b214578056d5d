/**
 * The slot supervisor: runs slots as detached OS processes (their own process groups, so they
 * outlive the agent) and keeps one JSON record per slot on disk, the truth a restarted agent re-adopts.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure } from '@temporalio/common';
import { freePort } from '../../process/free-port.js';
import { slotIdFor, type SlotInfo, type SlotSpec } from './contract.js';
import { isSameProcessAlive, readProcessStat, signalGroup } from './proc.js';
import { startMarkerLine } from './slot-log.js';

/** How to run a slot, prepared only when the slot has to be (re)started. */
export interface SlotLaunch {
  argv: string[];
  cwd: string;
  /** The slot's whole environment except PORT and HOST, which the supervisor sets. */
  env: Record<string, string>;
  packageVersion: string;
  /** The unprivileged user the process runs as; the agent's own user when absent. */
  user?: { uid: number; gid: number };
}

/** What is on disk for a slot: SlotInfo plus what tells its process apart from a later one with the same pid. */
export interface SlotRecord extends SlotInfo {
  /** /proc/<pid>/stat field 22 at start. */
  processStartTime: string;
  exitSignal: string | null;
}

export interface SlotSupervisor {
  readonly slotsDir: string;
  logFileOf(slotId: string): string;
  /** Returns the running slot of that spec, or starts it; `prepare` runs only when a process has to be started. */
  start(spec: SlotSpec, prepare: () => Promise<SlotLaunch>): Promise<SlotRecord>;
  /** SIGTERM to the process group, SIGKILL after graceMs; forgets the slot. False when it was not running. */
  stop(slotId: string, graceMs: number): Promise<boolean>;
  /** The slot's record with its state checked against the live process; null when unknown. */
  get(slotId: string): Promise<SlotRecord | null>;
  list(): Promise<SlotRecord[]>;
}

export function toSlotInfo(record: SlotRecord): SlotInfo {
  const { slotId, environment, site, packageSha256, packageVersion, databases, readOnly, port, pid, state, exitCode, startedAt } = record;
  return { slotId, environment, site, packageSha256, packageVersion, databases, readOnly, port, pid, state, exitCode, startedAt };
}

const SLOT_ID = /^[a-z0-9][a-z0-9._-]*$/;

export function createSlotSupervisor(options: { slotsDir: string; address?: string }): SlotSupervisor {
  const { slotsDir } = options;
  /** Where slots listen: the host's address, which the data plane reaches; loopback on a single host. */
  const address = options.address ?? '127.0.0.1';
  /** Slots this agent process started: only their exit codes can be known. */
  const owned = new Map<string, { pid: number; exit: Promise<SlotExitStatus> }>();
  const locks = new Map<string, Promise<unknown>>();

  const recordFile = (slotId: string) => join(slotsDir, `${checkSlotId(slotId)}.json`);
  const logFileOf = (slotId: string) => join(slotsDir, `${checkSlotId(slotId)}.log`);

  /** One operation at a time per slot: a retried start must not race the first one. */
  function withLock<T>(slotId: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(slotId) ?? Promise.resolve();
    const next = previous.then(fn, fn);
    const settled = next.catch(() => undefined);
    locks.set(slotId, settled);
    void settled.then(() => {
      if (locks.get(slotId) === settled) locks.delete(slotId);
    });
    return next;
  }

  async function load(slotId: string): Promise<SlotRecord | null> {
    try {
      return JSON.parse(await readFile(recordFile(slotId), 'utf8')) as SlotRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      if (error instanceof SyntaxError) return null; // a torn record cannot happen (atomic writes); a hand-edited one is ignored
      throw error;
    }
  }

  /** Write-then-rename: a crash never leaves half a record. */
  async function save(record: SlotRecord): Promise<void> {
    const file = recordFile(record.slotId);
    await writeFile(`${file}.tmp`, JSON.stringify(record, null, 2) + '\n');
    await rename(`${file}.tmp`, file);
  }

  /** Brings a record's state in line with the process: a running record whose process is gone becomes exited. */
  async function refresh(record: SlotRecord): Promise<SlotRecord> {
    if (record.state !== 'running' || (await isSameProcessAlive(record.pid, record.processStartTime))) return record;
    const own = owned.get(record.slotId);
    // /proc can show the death a moment before Node reaps the child and reports its exit code.
    const known = own && own.pid === record.pid ? await within(own.exit, 2000) : null;
    const exited: SlotRecord = { ...record, state: 'exited', exitCode: known?.exitCode ?? null, exitSignal: known?.exitSignal ?? null };
    await save(exited);
    return exited;
  }

  async function get(slotId: string): Promise<SlotRecord | null> {
    const record = await load(slotId);
    return record ? refresh(record) : null;
  }

  async function launch(spec: SlotSpec, slotId: string, how: SlotLaunch): Promise<SlotRecord> {
    await mkdir(slotsDir, { recursive: true, mode: 0o700 }); // records and logs: the agent's alone
    const port = await freePort(address);
    const startedAt = new Date().toISOString();
    const log = openSync(logFileOf(slotId), 'a', 0o600); // apps may print secrets
    let child;
    try {
      writeSync(log, startMarkerLine(slotId, how.packageVersion, startedAt));
      const [command, ...args] = how.argv as [string, ...string[]];
      child = spawn(command, args, {
        cwd: how.cwd,
        env: { ...how.env, PORT: String(port), HOST: address },
        stdio: ['ignore', log, log],
        detached: true, // own process group: survives the agent, and stop can signal the whole group
        // libuv drops the supplementary groups too: the slot keeps nothing of the agent's rights.
        ...(how.user ? { uid: how.user.uid, gid: how.user.gid } : {}),
      });
    } finally {
      closeSync(log);
    }
    const spawned = child;
    if (spawned.pid === undefined) {
      const error = await new Promise<Error>((resolve) => spawned.once('error', resolve));
      throw ApplicationFailure.nonRetryable(
        `Slot ${slotId} could not start ${JSON.stringify(how.argv[0])} in the package: ${error.message}`,
        'startup-error',
      );
    }
    const pid = spawned.pid;
    spawned.on('error', () => undefined);
    const exit = new Promise<SlotExitStatus>((resolve) =>
      spawned.once('exit', (exitCode, exitSignal) => resolve({ exitCode, exitSignal })),
    );
    owned.set(slotId, { pid, exit });
    void exit.then(({ exitCode, exitSignal }) =>
      withLock(slotId, async () => {
        const record = await load(slotId);
        if (record && record.pid === pid && record.state === 'running') await save({ ...record, state: 'exited', exitCode, exitSignal });
      }).catch(() => undefined),
    );
    spawned.unref();
    const stat = await readProcessStat(pid);
    const record: SlotRecord = {
      slotId,
      environment: spec.environment,
      site: spec.site,
      packageSha256: spec.packageSha256,
      packageVersion: how.packageVersion,
      databases: spec.databases,
      readOnly: spec.readOnly,
      port,
      pid,
      state: 'running',
      exitCode: null,
      startedAt,
      processStartTime: stat?.startTime ?? '',
      exitSignal: null,
    };
    await save(record);
    return refresh(record);
  }

  return {
    slotsDir,
    logFileOf,

    start(spec, prepare) {
      const slotId = slotIdFor(spec);
      return withLock(slotId, async () => {
        const existing = await get(slotId);
        if (existing?.state === 'running') {
          if (existing.readOnly !== spec.readOnly) {
            throw ApplicationFailure.nonRetryable(
              `Slot ${slotId} is already running with readOnly=${existing.readOnly}, not ${spec.readOnly}: ` +
                'stop it before starting it in the other mode',
              'invalid-input',
            );
          }
          return existing;
        }
        return launch(spec, slotId, await prepare());
      });
    },

    stop(slotId, graceMs) {
      return withLock(slotId, async () => {
        const record = await get(slotId);
        if (!record) return false;
        let stopped = false;
        if (record.state === 'running') {
          stopped = true;
          signalGroup(record.pid, 'SIGTERM');
          if (!(await waitForExit(record, graceMs))) {
            signalGroup(record.pid, 'SIGKILL');
            if (!(await waitForExit(record, 10_000))) throw new Error(`Slot ${slotId} (pid ${record.pid}) survived SIGKILL`);
          }
          signalGroup(record.pid, 'SIGKILL'); // what else the slot started in its group
        }
        await rm(recordFile(slotId), { force: true });
        return stopped;
      });
    },

    get: (slotId) => withLock(slotId, () => get(slotId)),

    async list() {
      let names: string[];
      try {
        names = await readdir(slotsDir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const ids = names
        .filter((n) => n.endsWith('.json'))
        .map((n) => n.slice(0, -'.json'.length))
        .filter((id) => SLOT_ID.test(id));
      const records = await Promise.all(ids.map((id) => withLock(id, () => get(id))));
      return records.filter((r): r is SlotRecord => r !== null).sort((a, b) => a.slotId.localeCompare(b.slotId));
    },
  };
}

interface SlotExitStatus {
  exitCode: number | null;
  exitSignal: string | null;
}

/** The promise's value if it settles within ms, else null. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Slot ids become file names: refuse anything that could leave the slots folder. */
function checkSlotId(slotId: string): string {
  if (!SLOT_ID.test(slotId) || slotId.includes('..'))
    throw ApplicationFailure.nonRetryable(`Invalid slot id ${JSON.stringify(slotId)}`, 'invalid-input');
  return slotId;
}

async function waitForExit(record: SlotRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (await isSameProcessAlive(record.pid, record.processStartTime)) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}
