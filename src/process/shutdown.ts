/**
 * Runs the handler once on SIGTERM or SIGINT, then exits 0 (1 when it failed, logged to `logger` or stderr); a second
 * signal exits at once.
 */
export function onShutdownSignal(
  handler: (signal: NodeJS.Signals) => Promise<void>,
  logger?: { error(details: object, message: string): void },
) {
  let stopping = false;
  const listener = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    handler(signal)
      .then(() => process.exit(0))
      .catch((error: unknown) => {
        if (logger) logger.error({ err: error }, `shutdown after ${signal} failed`);
        else console.error(`shutdown after ${signal} failed: ${String(error)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
}
