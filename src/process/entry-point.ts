/** One way for a module to be a program: main() runs only when the module is what node was asked to run. */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export function runAsProgram(moduleUrl: string, main: () => Promise<void>): void {
  if (!process.argv[1] || moduleUrl !== pathToFileURL(realpathSync(process.argv[1])).href) return;
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  });
}

/** A command line the program cannot run with: says what is wrong and how to call it, and exits 2. */
export function exitWithUsage(logger: { fatal(message: string): void }, problem: string, usage: string): never {
  logger.fatal(`${problem}; ${usage}`);
  process.exit(2);
}
