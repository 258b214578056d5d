import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import {
  databaseAccessStatements,
  loginRoleStatement,
  schemaAccessStatements,
  type DatabaseLoginRoles,
} from '../engines/postgres/logins.js';
import { freePort } from '../process/free-port.js';
import { createPostgresEngine } from '../engines/postgres.js';

export const DEFAULT_PG_BIN_DIR = process.env.CUTOVER_PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';

export interface PostgresClusterOptions {
  /** Keeps data across runs when given; a temp dir removed on stop otherwise. */
  dataDir?: string;
  port?: number;
  binDir?: string;
  /** Detach the server so it outlives this process (the demo's database). */
  detached?: boolean;
  /** Server settings given after Cutover's own (so they win), e.g. { wal_level: 'replica' } for a server copies cannot follow on. */
  settings?: Record<string, string>;
}

export interface PostgresCluster {
  port: number;
  /** Superuser URL of the maintenance database, with the superuser's password: TCP connections need one. */
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

/** Local socket connections are trusted, and the socket is reachable only by the cluster's owner (and root). */
const socketConfig = (root: string, port: number): pg.ClientConfig => ({
  host: root,
  port,
  user: 'postgres',
  database: 'postgres',
  connectionTimeoutMillis: 1000,
});

async function waitUntilReady(config: pg.ClientConfig, child: ChildProcess | undefined, logFile: string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`postgres exited with code ${child.exitCode}: ${readTail(logFile)}`);
    }
    const client = new pg.Client(config);
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

/** TCP needs a password (scram); the local socket, which only the cluster's owner and root may open, is trusted. */
const HBA = `# Written by Cutover at each start.
local all all trust
host all all 127.0.0.1/32 scram-sha-256
host all all ::1/128 scram-sha-256
`;

const PASSWORD_FILE = 'superuser-password';

/** The superuser's password, made once per cluster and kept beside it, readable by its maker only. */
function superuserPassword(root: string): string {
  const file = join(root, PASSWORD_FILE);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('hex');
  writeFileSync(file, password, { mode: 0o600 });
  return password;
}

/** The superuser URL of a cluster this module started detached over `dataDir` (the demo's), for a later process. */
export function superuserUrlOf(dataDir: string, port: number): string {
  const pointer = join(dataDir, 'location');
  const root = existsSync(pointer) ? readFileSync(pointer, 'utf8').trim() : dataDir;
  // A cluster started before passwords were required runs with trust until its next start.
  const password = existsSync(join(root, PASSWORD_FILE)) ? `:${readFileSync(join(root, PASSWORD_FILE), 'utf8').trim()}` : '';
  return `postgres://postgres${password}@127.0.0.1:${port}/postgres`;
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
    const [cmd, args] = asClusterOwner(join(binDir, 'initdb'), [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-sync',
      '--locale=C.UTF-8',
    ]);
    execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  // Every start, also of a cluster made before passwords were required: a login's rights mean nothing under trust.
  writeFileSync(join(dataDir, 'pg_hba.conf'), HBA);
  giveToClusterOwner(join(dataDir, 'pg_hba.conf'));
  const port = options.port ?? (await freePort());
  const log = openSync(logFile, 'a');
  if (isRoot()) giveToClusterOwner(logFile);
  const [cmd, args] = asClusterOwner(join(binDir, 'postgres'), [
    '-D',
    dataDir,
    '-p',
    String(port),
    '-k',
    root,
    '-c',
    'unix_socket_permissions=0700',
    '-c',
    'listen_addresses=127.0.0.1',
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=300',
    // Temporary copies follow their originals by logical replication: one slot, WAL sender and apply worker per copy.
    '-c',
    'wal_level=logical',
    '-c',
    'max_replication_slots=64',
    '-c',
    'max_wal_senders=64',
    '-c',
    'max_logical_replication_workers=32',
    '-c',
    'max_worker_processes=48',
    // PostgreSQL 15 starts at most one apply worker per interval, whichever copy it is for: 5 s by default.
    '-c',
    'wal_retrieve_retry_interval=500ms',
    ...Object.entries(options.settings ?? {}).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ]);
  const child = spawn(cmd, args, { stdio: ['ignore', log, log], detached: options.detached ?? false });
  if (options.detached) child.unref();
  await waitUntilReady(socketConfig(root, port), child, logFile);
  const password = superuserPassword(root);
  const admin = new pg.Client(socketConfig(root, port));
  await admin.connect();
  try {
    await admin.query(`alter role postgres password ${admin.escapeLiteral(password)}`);
  } finally {
    await admin.end();
  }
  const urlFor = (database: string) => `postgres://postgres:${password}@127.0.0.1:${port}/${encodeURIComponent(database)}`;
  const adminUrl = urlFor('postgres');

  return {
    port,
    adminUrl,
    urlFor,
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

/** Connection strings of one database's three logins (docs/security.md). */
export interface DatabaseLoginUrls {
  /** Cutover's own login: the superuser the URL given to provideDatabase names. */
  admin: string;
  migration: string;
  app: string;
}

/**
 * Creates the database when missing, with its migration and application logins, their rights, and nobody else allowed
 * in: what an operator does once per environment, done for the demo and the tests. Idempotent. A login's password
 * is derived from the superuser's, so that a second run (a second `npm start`) gives the same connection strings.
 */
export async function provideDatabase(adminUrl: string, database: string, roles: DatabaseLoginRoles): Promise<DatabaseLoginUrls> {
  const secret = new URL(adminUrl).password || randomBytes(24).toString('hex');
  const passwordOf = (role: string) => createHmac('sha256', secret).update(`cutover-login:${role}`).digest('hex').slice(0, 32);
  const urlAs = (role: string | null) => {
    const url = new URL(adminUrl);
    url.pathname = `/${encodeURIComponent(database)}`;
    if (role !== null) {
      url.username = encodeURIComponent(role);
      url.password = passwordOf(role);
    }
    return url.toString();
  };
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query('select 1 from pg_database where datname = $1', [database]);
    if (!found.rowCount) await admin.query(`create database ${admin.escapeIdentifier(database)}`);
    for (const role of [roles.migration, roles.app]) {
      const exists = Boolean((await admin.query('select 1 from pg_roles where rolname = $1', [role])).rowCount);
      await admin.query(loginRoleStatement(role, passwordOf(role), exists));
    }
    for (const statement of databaseAccessStatements(database, roles)) await admin.query(statement);
  } finally {
    await admin.end();
  }
  const inDatabase = new pg.Client({ connectionString: urlAs(null) });
  await inDatabase.connect();
  try {
    for (const statement of schemaAccessStatements(roles)) await inDatabase.query(statement);
  } finally {
    await inDatabase.end();
  }
  return { admin: urlAs(null), migration: urlAs(roles.migration), app: urlAs(roles.app) };
}

/**
 * Drops every database whose name starts with `prefix` (what a test or the demo made), ending first what makes a
 * temporary copy follow its original: DROP DATABASE refuses a database with a subscription, or with a slot in use.
 */
export async function dropDatabasesLike(adminUrl: string, prefix: string): Promise<void> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const found = await admin.query<{ datname: string }>(
      'select datname from pg_database where starts_with(datname, $1) order by datname',
      [prefix],
    );
    const names = found.rows.map((r) => r.datname);
    const engine = createPostgresEngine({ binDir: DEFAULT_PG_BIN_DIR });
    for (const original of names.filter((name) => !name.includes('__cutover_'))) {
      const url = new URL(adminUrl);
      url.pathname = `/${encodeURIComponent(original)}`;
      const handle = {
        config: { name: original, engine: 'postgres' as const, connectionEnv: 'CUTOVER_TEARDOWN' },
        connectionString: url.toString(),
      };
      await engine.dropTemporary(handle).catch(() => undefined);
    }
    for (const name of names) await admin.query(`drop database if exists ${admin.escapeIdentifier(name)} with (force)`);
  } finally {
    await admin.end();
  }
}
