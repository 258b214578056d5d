/** Cutover's long-running processes on one machine: started detached, tracked by pid files, stopped by signal. */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cutoverRoot } from '../installation.js';

/** The checkout (or image) root, whether this runs from the sources or from dist/. */
export const repoRoot = cutoverRoot;

export interface ManagedProcess {
  name: string;
  pid: number;
  log: string;
  reused: boolean;
}

/** Running, and not a zombie waiting for a parent that may never reap it (orphans of detached starts). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true; // no /proc: trust kill(0)
  }
}

const pidFile = (stateDir: string, name: string) => join(stateDir, 'run', `${name}.pid`);
export const logFile = (stateDir: string, name: string) => join(stateDir, 'logs', `${name}.log`);

export function runningPid(stateDir: string, name: string): number | null {
  const file = pidFile(stateDir, name);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 && isAlive(pid) ? pid : null;
}

/** Starts `command` detached (own session, so it outlives this process), unless it already runs. */
export function ensureProcess(
  stateDir: string,
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): ManagedProcess {
  mkdirSync(join(stateDir, 'run'), { recursive: true });
  mkdirSync(join(stateDir, 'logs'), { recursive: true });
  const log = logFile(stateDir, name);
  const existing = runningPid(stateDir, name);
  if (existing) return { name, pid: existing, log, reused: true };
  const out = openSync(log, 'a');
  const child = spawn(command, args, { cwd: repoRoot, env, stdio: ['ignore', out, out], detached: true });
  child.unref();
  writeFileSync(pidFile(stateDir, name), String(child.pid));
  return { name, pid: child.pid!, log, reused: false };
}

export async function stopProcess(stateDir: string, name: string, graceMs = 15_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<boolean> {
  const pid = runningPid(stateDir, name);
  rmSync(pidFile(stateDir, name), { force: true });
  if (!pid) return false;
  try {
    process.kill(-pid, signal); // the whole process group: tsx and node, temporal and its children
  } catch {
    process.kill(pid, signal);
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      process.kill(pid, 'SIGKILL');
    }
  }
  return true;
}

export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail =
    log && existsSync(log) ? `\n--- last lines of ${log} ---\n${readFileSync(log, 'utf8').split('\n').slice(-20).join('\n')}` : '';
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s${tail}`);
}
