/** The stacks `npm start` brought up from this checkout, so that `npm run stop` finds them whatever config they used. */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './processes.js';

export interface StartedStack {
  /** Absolute path of the config file it was started with. */
  config: string;
  /** Absolute state dir: where its pid files and slot records are. */
  stateDir: string;
}

/** CUTOVER_STACKS_DIR, else .cutover/stacks in the checkout (the same place whatever the config). */
export function startedStacksDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.CUTOVER_STACKS_DIR || join(repoRoot, '.cutover', 'stacks');
}

/** One file per state dir: starting the same stack again overwrites its entry. */
const entryFile = (dir: string, stateDir: string) => join(dir, `${createHash('sha256').update(stateDir).digest('hex').slice(0, 16)}.json`);

export function recordStartedStack(stack: StartedStack, dir = startedStacksDir()): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(entryFile(dir, stack.stateDir), JSON.stringify(stack) + '\n');
}

export function startedStacks(dir = startedStacksDir()): StartedStack[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => name.endsWith('.json'));
  } catch {
    return [];
  }
  const stacks: StartedStack[] = [];
  for (const name of names.sort()) {
    try {
      const entry = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Partial<StartedStack>;
      if (typeof entry.config !== 'string' || typeof entry.stateDir !== 'string') continue;
      stacks.push({ config: entry.config, stateDir: entry.stateDir });
    } catch {
      // an unreadable entry names nothing to stop
    }
  }
  return stacks;
}

export function forgetStartedStack(stateDir: string, dir = startedStacksDir()): void {
  rmSync(entryFile(dir, stateDir), { force: true });
}
