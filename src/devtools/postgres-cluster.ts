import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './free-port.js';

export const DEFAULT_PG_BIN_DIR = process.env.CUTOVER_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

export interface PostgresClusterOptions {
  /** Keeps data across runs when given; a temp dir removed on stop otherwise. */
  dataDir?: string;
  port?: number;
  binDir?: string;
  /** Detach the server so it outlives this process (the demo's database). */
  detached?: boolean;
}

export interface PostgresCluster {
  port: number;
  /** Superuser URL of the maintenance database. */
  adminUrl: string;
  urlFor(database: string): string;
  binDir: string;
  dataDir: string;
  pid: number;
  stop(): Promise<void>;
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** initdb refuses root: as root, the cluster belongs to and runs as the postgres user (setpriv execs, so signals reach postgres itself). */
function asClusterOwner(command: string, args: string[]): [string, string[]] {
  return isRoot() ? ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]] : [command, args];
}

/**
 * As root the cluster runs as the postgres user, who may not be able to reach the requested folder (a clone in
 * /root, a 0700 temp dir): then it lives under /var/lib/cutover, and the requested folder points to it.
 */
function reachableClusterRoot(requested: string): string {
  if (!isRoot()) return requested;
  const pointer = join(requested, 'location');
  if (existsSync(pointer)) return readFileSync(pointer, 'utf8').trim();
  mkdirSync(requested, { recursive: true });
  giveToClusterOwner(requested);
  try {
    execFileSync('setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', 'test', '-w', requested], { stdio: 'ignore' });
    return requested;
  } catch {
    const elsewhere = join('/var/lib/cutover', `postgres-${createHash('sha256').update(requested).digest('hex').slice(0, 12)}`);
    mkdirSync(elsewhere, { recursive: true });
    writeFileSync(pointer, elsewhere);
    return elsewhere;
  }
}

function giveToClusterOwner(path: string) {
  if (!isRoot()) return;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  chownSync(path, uid, gid);
}

async function waitUntilReady(url: string, child: ChildProcess | undefined, logFile: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`postgres exited with code ${child.exitCode}: ${readTail(logFile)}`);
    }
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch (error) {
      lastError = error;
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`postgres did not accept connections within ${timeoutMs} ms: ${String(lastError)}; log: ${readTail(logFile)}`);
}

function readTail(file: string) {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Starts a throwaway (or persistent) PostgreSQL cluster on loopback from the Debian server binaries. */
export async function startPostgresCluster(options: PostgresClusterOptions = {}): Promise<PostgresCluster> {
  const binDir = options.binDir ?? DEFAULT_PG_BIN_DIR;
  if (!existsSync(join(binDir, 'postgres'))) {
    throw new Error(`PostgreSQL server binaries not found in ${binDir}: install the Debian package 'postgresql' or set CUTOVER_PG_BIN_DIR`);
  }
  const temporary = !options.dataDir;
  const root = options.dataDir ? reachableClusterRoot(options.dataDir) : mkdtempSync(join(tmpdir(), 'cutover-pg-'));
  mkdirSync(root, { recursive: true });
  giveToClusterOwner(root);
  const dataDir = join(root, 'data');
  const logFile = join(root, 'postgres.log');

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    const [cmd, args] = asClusterOwner(join(binDir, 'initdb'), ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C.UTF-8']);
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  const port = options.port ?? (await freePort());
  const log = openSync(logFile, 'a');
  if (isRoot()) giveToClusterOwner(logFile);
  const [cmd, args] = asClusterOwner(join(binDir, 'postgres'), [
    '-D', dataDir, '-p', String(port), '-k', root,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
    '-c', 'max_connections=300',
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', log, log], detached: options.detached ?? false });
  if (options.detached) child.unref();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  await waitUntilReady(adminUrl, child, logFile);

  return {
    port,
    adminUrl,
    urlFor: (database: string) => `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(database)}`,
    binDir,
    dataDir,
    pid: child.pid ?? -1,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGINT'); // fast shutdown: disconnect clients, checkpoint, exit
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      if (temporary) rmSync(root, { recursive: true, force: true });
    },
  };
}
