import type { HeartbeatFn } from './engine.js';

export const HEARTBEAT_INTERVAL_MS = 2_000;

/** Keeps telling Temporal the activity is alive while one long statement or tool runs. */
export async function withHeartbeat<T>(heartbeat: HeartbeatFn, details: () => unknown, work: () => Promise<T>): Promise<T> {
  const beat = () => {
    try {
      heartbeat(details());
    } catch {
      // A failed heartbeat must not crash the process from a timer; Temporal reports cancellation on its own.
    }
  };
  beat();
  const timer = setInterval(beat, HEARTBEAT_INTERVAL_MS);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
