import { EngineError } from './engine.js';

/** How an engine takes and gives back the lock of one logical database's copy, restore point and restore work. */
export interface OperationLock {
  /** False when another operation holds it. */
  tryAcquire(): Promise<boolean>;
  release(): Promise<unknown>;
}

/** Runs work holding the lock, so that a retried activity never races a still-running earlier attempt (the same on every engine). */
export async function holdingOperationLock<T>(original: string, lock: OperationLock, work: () => Promise<T>): Promise<T> {
  if (!(await lock.tryAcquire())) {
    throw new EngineError(
      'transient',
      `another Cutover operation on database "${original}" is still running (copy, restore point or restore); try again when it ends`,
    );
  }
  try {
    return await work();
  } finally {
    await lock.release().catch(() => undefined);
  }
}
