/** Test packages for the host agent: one tiny HTTP server whose behaviour is chosen by its start argv. */
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { createPackageStore, type PackageStore, type StoredPackage } from '../../src/packages/store.js';
import { slotsDirOf } from '../../src/platform/agent/activities.js';
import { readLogTail } from '../../src/platform/agent/slot-log.js';

export type ServerMode =
  | 'ok' // 200 on /healthz; /env shows the slot's environment; /db asks PostgreSQL which database it is on
  | 'slow-start' // listens only after 1.5 s: connection refused meanwhile
  | 'forbidden' // 403 on everything
  | 'error' // 500 forever
  | 'crash' // logs, then exits with code 3
  | 'write-on-warmup' // every /healthz INSERTs: 500 with the database error on a read-only database
  | 'write-at-startup' // INSERTs before listening; exits 1 when it fails
  | 'print-secrets'; // logs secret-looking values an application could hold, then exits 1

const server = String.raw`
const http = require('node:http');
const mode = process.argv[2];
const port = Number(process.env.PORT);
console.log('test server ' + mode + ' starting on ' + process.env.HOST + ':' + port + ' as ' + process.env.CUTOVER_SLOT);

function withDb(fn) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: process.env.DATABASE_URL });
  return client.connect().then(() => fn(client)).finally(() => client.end().catch(() => {}));
}

function listen(handler) {
  http.createServer((req, res) => {
    Promise.resolve(handler(req, res)).catch((err) => {
      console.error('request failed: ' + err.message + ' (SQLSTATE ' + err.code + ')');
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('error: ' + err.message);
    });
  }).listen(port, process.env.HOST, () => console.log('listening on ' + port));
}

function json(res, value) {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

function ok(req, res) {
  const url = new URL(req.url, 'http://slot');
  // What an attacker's application would try: who it runs as, which files it may read, which SQL its login may run.
  if (url.pathname === '/whoami') {
    return json(res, { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), home: process.env.HOME });
  }
  if (url.pathname === '/read') {
    try {
      return json(res, { read: require('node:fs').readFileSync(url.searchParams.get('path'), 'utf8').length });
    } catch (err) {
      return json(res, { code: err.code });
    }
  }
  if (url.pathname === '/sql') {
    return withDb((c) => c.query(url.searchParams.get('q'))).then(
      (r) => json(res, { rows: r.rows }),
      (err) => json(res, { code: err.code, message: err.message }),
    );
  }
  if (req.url === '/env') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(process.env));
  }
  if (req.url === '/db') {
    return withDb((c) => c.query('select current_database() as db, current_setting($1) as ro', ['transaction_read_only'])).then((r) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(r.rows[0]));
    });
  }
  res.writeHead(200, { 'content-type': 'text/plain' });
  res.end('ok ' + process.pid);
}

switch (mode) {
  case 'ok': listen(ok); break;
  case 'slow-start': setTimeout(() => listen(ok), 1500); break;
  case 'forbidden': listen((req, res) => { res.writeHead(403); res.end('Forbidden: IP address not allowed'); }); break;
  case 'error': listen((req, res) => { res.writeHead(500); res.end('internal error'); }); break;
  case 'crash':
    console.error('fatal: cannot load configuration file settings.json');
    setTimeout(() => process.exit(3), 200);
    break;
  case 'write-on-warmup':
    listen((req, res) => withDb((c) => c.query('insert into visits default values')).then(() => ok(req, res)));
    break;
  case 'write-at-startup':
    withDb((c) => c.query('insert into visits default values')).then(
      () => listen(ok),
      (err) => { console.error('startup failed: ' + err.message + ' (SQLSTATE ' + err.code + ')'); process.exit(1); },
    );
    break;
  case 'print-secrets':
    console.log('AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    console.log('calling the billing API with Authorization: Bearer sk_live_4eC39HqLyjWDarjtT1zdp7dc');
    console.log('slack client ready with xoxb-2222222222-abcdefghijklmnop');
    console.log('cache at redis://default:r3dis-pa55word@cache.internal:6379/0; smtp password=Mail-Pa55');
    console.error('fatal: cannot start with ' + process.env.DATABASE_URL);
    setTimeout(() => process.exit(1), 200);
    break;
  default:
    console.error('unknown mode ' + mode);
    process.exit(2);
}
process.on('SIGTERM', () => { console.log('SIGTERM: bye'); process.exit(0); });
`;

/** Writes a package folder for one server mode and imports it into the store. */
export async function importTestPackage(store: PackageStore, mode: ServerMode, version = '1.0.0'): Promise<StoredPackage> {
  const dir = mkdtempSync(join(tmpdir(), `cutover-agent-pkg-${mode}-`));
  writeFileSync(join(dir, 'server.cjs'), server);
  mkdirSync(join(dir, 'migrations'));
  writeFileSync(
    join(dir, 'cutover-package.json'),
    JSON.stringify({ name: 'agent-test', version, start: ['node', 'server.cjs', mode], warmupPath: '/healthz' }, null, 2),
  );
  return store.importPackage(dir);
}

export interface AgentTestSetup {
  stateDir: string;
  config: LoadedConfig;
  store: PackageStore;
  host: string;
  configFile: string;
}

/** A temp state dir and a config with one environment on a unique host, so test files never share anything. */
export function agentTestSetup(options: {
  host: string;
  environment: string;
  temporalAddress: string;
  databaseEnv?: string;
  /** The application login's variable (appConnectionEnv). */
  appDatabaseEnv?: string;
}): AgentTestSetup {
  const root = mkdtempSync(join(tmpdir(), `cutover-agent-${options.host}-`));
  // As root, slots run as another user, who must be able to pass through to the state dir (mkdtemp makes it 0700).
  chmodSync(root, 0o711);
  const stateDir = join(root, 'state');
  const yaml = [
    `stateDir: ${stateDir}`,
    'temporal:',
    `  address: "${options.temporalAddress}"`,
    'environments:',
    `  ${options.environment}:`,
    `    host: ${options.host}`,
    '    router: { adminPort: 41999 }',
    '    sites:',
    '      - { name: web, role: zdd, publicPort: 41001, previewPort: 41002 }',
    ...(options.databaseEnv
      ? [
          '    databases:',
          `      - { name: app, engine: postgres, connectionEnv: ${options.databaseEnv}` +
            `${options.appDatabaseEnv ? `, appConnectionEnv: ${options.appDatabaseEnv}` : ''} }`,
        ]
      : []),
    '',
  ].join('\n');
  const configFile = join(root, 'cutover.yaml');
  writeFileSync(configFile, yaml);
  const config = parseConfig(yaml, configFile);
  return { stateDir, config, store: createPackageStore(join(stateDir, 'packages')), host: options.host, configFile };
}

/** The last lines a slot printed, read from the log file the agent keeps for it (as written: not scrubbed). */
export function slotLogTail(setup: Pick<AgentTestSetup, 'stateDir' | 'host'>, slotId: string, lines: number): Promise<string> {
  return readLogTail(join(slotsDirOf(setup.stateDir, setup.host), `${slotId}.log`), lines);
}

export function suffix(): string {
  return Math.random().toString(36).slice(2, 8);
}
