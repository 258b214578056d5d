import { readFile } from 'node:fs/promises';

/** What /proc/<pid>/stat says about a process: enough to tell it apart from a later process that reuses the pid. */
export interface ProcessStat {
  /** One-letter state; Z (zombie) and X (dead) mean the process is gone. */
  state: string;
  /** Field 22: start time in clock ticks since boot. */
  startTime: string;
}

/** Reads /proc/<pid>/stat (Linux); null when there is no such process. */
export async function readProcessStat(pid: number): Promise<ProcessStat | null> {
  let text: string;
  try {
    text = await readFile(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // The command name (field 2) may hold spaces and parentheses: fields resume after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];
  const startTime = fields[19];
  if (!state || !startTime) return null;
  return { state, startTime };
}

/** Alive = the pid exists, is not a zombie, and is the very process that was started (same start time). */
export async function isSameProcessAlive(pid: number, startTime: string): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return stat !== null && stat.state !== 'Z' && stat.state !== 'X' && stat.startTime === startTime;
}

/** Signals a whole process group; false when it no longer exists. */
export function signalGroup(pid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}
