/**
 * The Temporal SDK's own metrics (polls, task slots, workflow and activity task latencies, requests to Temporal) on a
 * Prometheus endpoint of the worker or host agent process (docs/metrics.md). Part of the SDK's Runtime, which is
 * installed once per process before any connection or Worker: so only the programs' main() install it.
 */
import { Runtime, type RuntimeOptions } from '@temporalio/worker';

/** Runtime options serving the SDK's metrics on `bindAddress` (loopback: the endpoint has no auth); none when absent. */
export function sdkMetricsOptions(bindAddress: string | undefined): Pick<RuntimeOptions, 'telemetryOptions'> {
  if (!bindAddress) return {};
  return {
    telemetryOptions: {
      metrics: {
        // Prometheus's own conventions: counters end in _total, durations in seconds with the unit in the name.
        prometheus: { bindAddress, countersTotalSuffix: true, unitSuffix: true, useSecondsForDurations: true },
      },
    },
  };
}

/** Installs the SDK's runtime with its metrics on `bindAddress`; a port in use is an error naming `setting`. */
export function installSdkRuntime(options: RuntimeOptions, bindAddress: string | undefined, setting: string): void {
  try {
    Runtime.install({ ...options, ...sdkMetricsOptions(bindAddress) });
  } catch (error) {
    if (!bindAddress) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`${setting} ${bindAddress}: the Temporal SDK's metrics endpoint did not start: ${reason}`, { cause: error });
  }
}
