/**
 * Every activity with a heartbeat timeout heartbeats while it runs, so a worker or host agent that dies
 * mid-step is noticed after the heartbeat timeout (seconds) instead of the step's start-to-close timeout.
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

/** Well inside any heartbeat timeout; the SDK throttles what it really sends to Temporal. */
const BEAT_EVERY_MS = 1_000;

export function heartbeatInterceptors(): ActivityInterceptorsFactory[] {
  return [
    (ctx) => {
      const inbound: ActivityInboundCallsInterceptor = {
        async execute(input, next) {
          if (!ctx.info.heartbeatTimeoutMs) return next(input);
          const beat = () => {
            try {
              ctx.heartbeat();
            } catch {
              // A heartbeat after the activity ended or was cancelled: nothing to tell.
            }
          };
          const timer = setInterval(beat, Math.min(BEAT_EVERY_MS, Math.max(100, Math.floor(ctx.info.heartbeatTimeoutMs / 3))));
          try {
            return await next(input);
          } finally {
            clearInterval(timer);
          }
        },
      };
      return { inbound };
    },
  ];
}
