/**
 * Which OS user runs an environment's slots. When the agent runs as root, each environment's slots run as an
 * unprivileged user of their own: an application can then read neither the agent's environment
 * (/proc/<agent pid>/environ) nor Cutover's files, nor signal or trace another environment's slots. Not as root,
 * slots run as the agent's own user (nothing else is possible), and a configured slotUser is reported once.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, realpath, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { ApplicationFailure } from '@temporalio/common';
import type { EnvironmentConfig } from '../../config/schema.js';

const run = promisify(execFile);

export interface SlotIdentity {
  user: string;
  uid: number;
  gid: number;
}

/** Linux user names are at most 32 characters: a long environment name is shortened and made unique by a hash. */
export function defaultSlotUser(environment: string): string {
  const name = `cutover-${environment}`;
  if (name.length <= 32) return name;
  return `cutover-${environment.slice(0, 15)}-${createHash('sha256').update(environment).digest('hex').slice(0, 8)}`;
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** The user's uid and gid from the user database; null when there is no such user. */
export async function lookUpUser(name: string): Promise<SlotIdentity | null> {
  try {
    const { stdout } = await run('getent', ['passwd', name]);
    const [, , uid, gid] = stdout.trim().split(':');
    return { user: name, uid: Number(uid), gid: Number(gid) };
  } catch (error) {
    if ((error as { code?: unknown }).code === 2) return null; // getent: no such key
    throw error;
  }
}

/** useradd's exit codes when the passwd or group file is locked by another useradd: worth another try. */
const LOCKED = new Set([1, 10]);
/** useradd's exit code when the name is taken: another agent created it first. */
const NAME_IN_USE = 9;

/** A system user with its own group, no home, no login shell. Idempotent, also when two agents race. */
export async function createSystemUser(name: string, comment: string): Promise<SlotIdentity> {
  const shell = existsSync('/usr/sbin/nologin') ? '/usr/sbin/nologin' : '/bin/false';
  for (let attempt = 1; ; attempt++) {
    try {
      const options = ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent'];
      await run('useradd', [...options, '--shell', shell, '--comment', comment, name]);
      break;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code === NAME_IN_USE) break;
      if (typeof code === 'number' && LOCKED.has(code) && attempt < 20) {
        await sleep(100 * attempt);
        continue;
      }
      const reason = (error as { stderr?: string }).stderr?.trim() || (error as Error).message;
      throw new Error(`useradd ${name} failed: ${reason}`, { cause: error });
    }
  }
  const created = await lookUpUser(name);
  if (!created) throw new Error(`useradd ${name} succeeded, but the user is not in the user database`);
  return created;
}

export interface SlotUsers {
  /** The identity the environment's slots run as; null when they run as the agent's own user (the agent is not root). */
  identityOf(environmentName: string, environment: EnvironmentConfig): Promise<SlotIdentity | null>;
}

export function createSlotUsers(options: { host: string; asRoot?: boolean; warn?: (message: string) => void }): SlotUsers {
  const asRoot = options.asRoot ?? isRoot();
  const known = new Map<string, Promise<SlotIdentity>>();
  const warned = new Set<string>();

  async function resolve(environmentName: string, environment: EnvironmentConfig): Promise<SlotIdentity> {
    const name = environment.slotUser ?? defaultSlotUser(environmentName);
    const field = `environments.${environmentName}.slotUser`;
    const found = await lookUpUser(name);
    if (found?.uid === 0 || found?.gid === 0) {
      throw invalid(`Slot user ${name} of environment ${environmentName} has uid or gid 0: slots must run unprivileged (${field})`);
    }
    if (found) return found;
    if (environment.slotUser) {
      throw invalid(
        `Slot user ${name} (${field}) does not exist on host ${options.host}: ` +
          `create it (useradd --system --user-group ${name}), ` +
          `or leave slotUser out and Cutover creates ${defaultSlotUser(environmentName)}`,
      );
    }
    return createSystemUser(name, `Cutover slots of environment ${environmentName}`);
  }

  return {
    async identityOf(environmentName, environment) {
      if (!asRoot) {
        if (environment.slotUser && !warned.has(environmentName)) {
          warned.add(environmentName);
          options.warn?.(
            `environments.${environmentName}.slotUser is ignored: the host agent does not run as root, so slots run as its own user`,
          );
        }
        return null;
      }
      let identity = known.get(environmentName);
      if (!identity) {
        identity = resolve(environmentName, environment);
        known.set(environmentName, identity);
        void identity.catch(() => known.delete(environmentName)); // a user created later is found by the next start
      }
      return identity;
    },
  };
}

/**
 * Lets other users pass through (never list) each folder from `root` down to the parent of `target`: slots reach their
 * package and their home under the state dir. Folders above `root` are not Cutover's to change (firstBlockingFolder
 * tells when they block), nor is `target` itself (a package is open to all, a home to its owner only).
 */
export async function openPathThrough(root: string, target: string): Promise<void> {
  const steps = relative(root, dirname(target))
    .split(sep)
    .filter((s) => s !== '' && s !== '.');
  if (steps[0] === '..') return;
  let dir = root;
  for (const step of ['', ...steps]) {
    dir = step ? join(dir, step) : dir;
    const mode = (await stat(dir)).mode & 0o7777;
    if ((mode & 0o001) === 0) await chmod(dir, mode | 0o001);
  }
}

/** The first folder on the way to `target` that the identity may not pass (or, for target itself, read): null when none. */
export async function firstBlockingFolder(identity: SlotIdentity, target: string): Promise<{ folder: string; mode: string } | null> {
  const full = await realpath(target);
  const folders: string[] = [];
  for (let dir = full; ; dir = dirname(dir)) {
    folders.unshift(dir);
    if (dirname(dir) === dir) break;
  }
  for (const folder of folders) {
    const info = await stat(folder);
    const bits = info.uid === identity.uid ? (info.mode >> 6) & 7 : info.gid === identity.gid ? (info.mode >> 3) & 7 : info.mode & 7;
    const needed = folder === full ? 0o5 : 0o1;
    if ((bits & needed) !== needed) return { folder, mode: (info.mode & 0o777).toString(8).padStart(4, '0') };
  }
  return null;
}

/** The PATH folders the identity may use: one it may not pass would make a missing command look like EACCES. */
export async function searchPathFor(identity: SlotIdentity, path: string): Promise<string> {
  const usable: string[] = [];
  for (const folder of path.split(':').filter(Boolean)) {
    const blocked = await firstBlockingFolder(identity, folder).catch(() => ({ folder, mode: '' }));
    if (!blocked) usable.push(folder);
  }
  return usable.join(':');
}

/** The environment's own writable folder (HOME of its slots), owned by its slot user and closed to everyone else. */
export async function prepareSlotHome(home: string, identity: SlotIdentity | null): Promise<void> {
  await mkdir(home, { recursive: true, mode: 0o700 });
  if (identity) await chown(home, identity.uid, identity.gid);
  await chmod(home, 0o700);
}

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, 'invalid-input');
}
