/** Runs the handler once on SIGTERM or SIGINT; a second signal exits at once. */
export function onShutdownSignal(handler: () => Promise<void>) {
  let stopping = false;
  const listener = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(130);
    stopping = true;
    handler()
      .then(() => process.exit(0))
      .catch((error) => {
        console.error(`shutdown after ${signal} failed: ${String(error)}`);
        process.exit(1);
      });
  };
  process.on('SIGTERM', listener);
  process.on('SIGINT', listener);
}
