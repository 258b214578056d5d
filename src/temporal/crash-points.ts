/**
 * Failpoints for crash testing: with CUTOVER_CRASH_AT=<activity>[#n], the worker or host agent process SIGKILLs itself
 * as the n-th execution (default 1st) of that activity starts. Off unless the variable is set.
 */
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';

export function crashPointInterceptors(spec: string | undefined): ActivityInterceptorsFactory[] {
  if (!spec) return [];
  const [activity, nth] = spec.split('#');
  const target = Number(nth ?? 1);
  let seen = 0;
  return [
    (ctx) => {
      const inbound: ActivityInboundCallsInterceptor = {
        async execute(input, next) {
          if (ctx.info.activityType === activity && ++seen === target) {
            console.error(`crash point: killing the process as ${activity} #${target} starts`);
            process.kill(process.pid, 'SIGKILL');
          }
          return next(input);
        },
      };
      return { inbound };
    },
  ];
}
