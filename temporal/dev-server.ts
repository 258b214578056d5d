/**
 * How Cutover runs its Temporal server on one machine: the CLI's dev server with a persistent
 * SQLite file, its Web UI, and Cutover's search attributes registered.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { cutoverRoot } from '../src/installation.js';
import { cutoverSearchAttributes } from '../src/workflows/search-attributes.js';

// cli.sh stays in the sources: the build output (dist/temporal/) has only the compiled module.
const here = join(cutoverRoot, 'temporal');

/** Path of the Temporal CLI: on PATH, in $(go env GOPATH)/bin, or built there with go install. */
export function temporalCliPath(): string {
  return execFileSync('bash', [join(here, 'cli.sh')], { stdio: ['ignore', 'pipe', 'inherit'] })
    .toString()
    .trim();
}

export function searchAttributeArgs(): string[] {
  return cutoverSearchAttributes.flatMap((key) => ['--search-attribute', `${key.name}=Keyword`]);
}

export interface DevServerOptions {
  dataDir: string;
  port: number;
  uiPort: number;
  namespace: string;
  ip?: string;
  detached?: boolean;
}

export function devServerArgs(options: DevServerOptions): string[] {
  return [
    'server',
    'start-dev',
    '--ip',
    options.ip ?? '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    join(options.dataDir, 'temporal.sqlite'),
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...searchAttributeArgs(),
  ];
}

/** Starts the dev server; its log goes to <dataDir>/temporal.log. */
export function startDevServer(options: DevServerOptions): ChildProcess {
  mkdirSync(options.dataDir, { recursive: true });
  const log = openSync(join(options.dataDir, 'temporal.log'), 'a');
  const child = spawn(temporalCliPath(), devServerArgs(options), { stdio: ['ignore', log, log], detached: options.detached ?? false });
  if (options.detached) child.unref();
  return child;
}
