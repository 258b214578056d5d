import { Worker } from 'node:worker_threads';
import { PackageError, type PackageErrorCode } from './errors.js';
import type { PackageLimits } from './limits.js';
import { runsCompiled } from '../installation.js';

/** What an unpacking thread is asked, and what it answers (errors cross the thread as plain data). */
export interface UnpackRequest {
  tarball: string;
  staging: string;
  limits: PackageLimits;
}
export type UnpackResult =
  | { ok: true }
  | { ok: false; refused: { code: PackageErrorCode; message: string } }
  | { ok: false; failed: { message: string; code?: string } };

// From the sources, a thread needs tsx registered first (unpack-worker.mjs); compiled, it runs the job directly.
const ENTRY = runsCompiled ? new URL('./unpack-job.js', import.meta.url) : new URL('./unpack-worker.mjs', import.meta.url);
/** Heap of an unpacking thread: file data streams through it; tar keeps at most a 1 MB extended header. */
const HEAP_MB = 128;

/** A thread takes a good part of a second to start (it loads tsx): one is kept for the next archive. */
const idle: Worker[] = [];

function takeThread(): Worker {
  const kept = idle.pop();
  if (kept) {
    kept.ref();
    return kept;
  }
  const thread = new Worker(ENTRY, { resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
  thread.once('exit', () => {
    const at = idle.indexOf(thread);
    if (at >= 0) idle.splice(at, 1);
  });
  // A busy thread's failure reaches its archive's listener; an idle one's must not crash the process ('exit' drops it).
  thread.on('error', () => undefined);
  return thread;
}

/** An idle thread must not keep the process alive. */
function keepThread(thread: Worker): void {
  if (idle.length > 0) {
    void thread.terminate();
    return;
  }
  thread.unref();
  idle.push(thread);
}

function describeDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} min`;
  return ms >= 1000 ? `${Math.round(ms / 100) / 10} s` : `${ms} ms`;
}

/**
 * Extracts a .tar.gz into a staging folder on a thread of its own, so that no archive, however it
 * was crafted, holds the event loop (the API answers meanwhile). At the time limit the thread is
 * stopped; this resolves or rejects only once nothing writes into the staging folder any more.
 */
export async function unpackTarball(tarball: string, staging: string, limits: PackageLimits): Promise<void> {
  const thread = takeThread();
  let timer: NodeJS.Timeout | undefined;
  let answered = false;
  let onMessage: (result: UnpackResult) => void = () => undefined;
  let onError: (error: NodeJS.ErrnoException) => void = () => undefined;
  let onExit: (code: number) => void = () => undefined;
  try {
    const result = await new Promise<UnpackResult>((resolve, reject) => {
      timer = setTimeout(() => {
        const limit = describeDuration(limits.unpackTimeoutMs);
        reject(new PackageError('too-slow', `unpacking the package archive took longer than ${limit}, the limit (packages.unpackTimeout)`));
      }, limits.unpackTimeoutMs);
      onMessage = resolve;
      onError = (error) => {
        if (error.code === 'ERR_WORKER_OUT_OF_MEMORY') {
          reject(new PackageError('too-large', `unpacking the package archive needed more than ${HEAP_MB} MB of memory, the limit`));
        } else {
          reject(error);
        }
      };
      onExit = (code) => reject(new Error(`the package unpacking thread stopped (exit code ${code}) before it reported`));
      thread.once('message', onMessage).once('error', onError).once('exit', onExit);
      const request: UnpackRequest = { tarball, staging, limits };
      thread.postMessage(request);
    });
    answered = true;
    if ('refused' in result) throw new PackageError(result.refused.code, result.refused.message);
    if ('failed' in result) throw Object.assign(new Error(result.failed.message), { code: result.failed.code });
  } finally {
    clearTimeout(timer);
    thread.off('message', onMessage).off('error', onError).off('exit', onExit);
    // A thread that answered is done with this archive and serves the next; any other is stopped before this returns.
    if (answered) keepThread(thread);
    else await thread.terminate();
  }
}
