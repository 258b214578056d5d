/** The host activities called directly, with real slot processes, real HTTP and a real PostgreSQL. */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MockActivityEnvironment } from '@temporalio/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { resolveDatabaseHandle } from '../../src/engines/index.js';
import { createPostgresEngine } from '../../src/engines/postgres.js';
import { dropDatabasesLike, provideDatabase } from '../../src/devtools/postgres-cluster.js';
import { createHostActivities, slotHomeOf, slotsDirOf } from '../../src/platform/agent/activities.js';
import { isRoot, lookUpUser } from '../../src/platform/agent/slot-user.js';
import { readProcessStat } from '../../src/platform/agent/proc.js';
import { slotIdFor, type HostActivities, type SlotSpec, type WarmUpResult } from '../../src/platform/agent/contract.js';
import { agentTestSetup, importTestPackage, slotLogTail, suffix, type AgentTestSetup, type ServerMode } from './fixtures.js';

const id = suffix();
const environment = 'shop';
const databaseEnv = 'AGENT_SLOTS_TEST_DB_URL';
const appDatabaseEnv = 'AGENT_SLOTS_TEST_APP_DB_URL';
const dbName = `agent_${id}`;
/** Another environment's database, which this environment's slots must not be able to touch. */
const otherDbName = `agent_${id}_other`;
const roles = { migration: `${dbName}_migrator`, app: `${dbName}_application` };
const otherRoles = { migration: `${otherDbName}_migrator`, app: `${otherDbName}_application` };
/** The application login's password: the only one the agent has. */
let password: string;
let setup: AgentTestSetup;
let activities: HostActivities;
let agentEnv: NodeJS.ProcessEnv;
const shas = new Map<ServerMode, string>();
const demoApp = fileURLToPath(new URL('../../examples/demo-app/v1', import.meta.url));
let demoSha: string;

async function admin<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client(inject('pgAdminUrl'));
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function spec(mode: ServerMode, overrides: Partial<SlotSpec> = {}): SlotSpec {
  return { environment, site: 'web', packageSha256: shas.get(mode)!, databases: 'original', readOnly: false, ...overrides };
}

async function get(port: number, path = '/healthz') {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, text: await response.text() };
}

async function failureOf(promise: Promise<unknown>): Promise<{ type?: string; message: string; nonRetryable?: boolean }> {
  try {
    await promise;
  } catch (error) {
    return error as { type?: string; message: string; nonRetryable?: boolean };
  }
  throw new Error('expected a failure');
}

function packageDir(manifest: object): string {
  const dir = mkdtempSync(join(tmpdir(), 'cutover-agent-pkg-custom-'));
  writeFileSync(join(dir, 'cutover-package.json'), JSON.stringify(manifest));
  return dir;
}

/** A zombie (dead, not yet reaped by its parent) counts as dead. */
async function alive(pid: number): Promise<boolean> {
  const stat = await readProcessStat(pid);
  return stat !== null && stat.state !== 'Z';
}

beforeAll(async () => {
  setup = agentTestSetup({ host: `slots-${id}`, environment, temporalAddress: inject('temporalAddress'), databaseEnv, appDatabaseEnv });
  const logins = await provideDatabase(inject('pgAdminUrl'), dbName, roles);
  await provideDatabase(inject('pgAdminUrl'), otherDbName, otherRoles);
  password = new URL(logins.app).password;
  // The agent holds the application login only: Cutover's own login stays with the worker.
  agentEnv = { PATH: process.env.PATH, [appDatabaseEnv]: logins.app, OTHER_ENVIRONMENT_SECRET: 'must-not-leak' };
  const migrator = new pg.Client(logins.migration);
  await migrator.connect();
  await migrator.query('create table visits (id serial primary key, at timestamptz default now())');
  await migrator.query(readFileSync(join(demoApp, 'migrations', '0001_create_notes.sql'), 'utf8'));
  await migrator.end();
  // The read-only copy as a deployment makes it, by Cutover's own login.
  const engine = createPostgresEngine({ binDir: inject('pgBinDir') });
  const config = setup.config.environments[environment]!.databases[0]!;
  const handle = resolveDatabaseHandle(config, { [databaseEnv]: logins.admin, [appDatabaseEnv]: logins.app });
  await engine.copyToTemporary(handle, () => undefined);
  await engine.makeTemporaryReadOnly(handle);
  const modes: ServerMode[] = [
    ...(['ok', 'slow-start', 'forbidden', 'error', 'crash'] as const),
    ...(['write-on-warmup', 'write-at-startup', 'print-secrets'] as const),
  ];
  for (const mode of modes) shas.set(mode, (await importTestPackage(setup.store, mode)).ref.sha256);
  demoSha = (await setup.store.importPackage(demoApp)).ref.sha256;
  activities = createHostActivities({
    config: setup.config,
    host: setup.host,
    store: setup.store,
    stateDir: setup.stateDir,
    cutoverRoot: process.cwd(),
    env: agentEnv,
  });
});

afterAll(async () => {
  for (const slot of activities ? await activities.listSlots({ environment }) : [])
    await activities.stopSlot({ slotId: slot.slotId, graceMs: 2000 });
  // The temporary copy follows its original: dropping it drops its replication slot too.
  for (const db of [dbName, otherDbName]) await dropDatabasesLike(inject('pgAdminUrl'), db);
  await admin(async (c) => {
    for (const role of [...Object.values(roles), ...Object.values(otherRoles)]) await c.query(`drop role if exists ${role}`);
  });
});

describe('startSlot / listSlots / stopSlot', () => {
  test('starts a slot that warms up, is listed running with its port, and stops', async () => {
    const slot = await activities.startSlot(spec('ok'));
    expect(slot).toMatchObject({
      slotId: slotIdFor(spec('ok')),
      environment,
      site: 'web',
      packageVersion: '1.0.0',
      databases: 'original',
      readOnly: false,
      state: 'running',
      exitCode: null,
    });
    expect(slot.slotId).toBe(`shop.web.${shas.get('ok')!.slice(0, 12)}.original`);
    const warm = await activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 });
    expect(warm.status).toBe(200);
    expect(await get(slot.port)).toEqual({ status: 200, text: `ok ${slot.pid}` });

    const listed = await activities.listSlots({ environment });
    expect(listed.find((s) => s.slotId === slot.slotId)).toEqual(slot);
    expect(await activities.listSlots({ environment: 'other' })).toEqual([]);

    const recordFile = join(slotsDirOf(setup.stateDir, setup.host), `${slot.slotId}.json`);
    expect(JSON.parse(readFileSync(recordFile, 'utf8'))).toMatchObject({ ...slot, processStartTime: expect.stringMatching(/^\d+$/) });

    expect(await activities.stopSlot({ slotId: slot.slotId, graceMs: 2000 })).toEqual({ stopped: true });
    expect(await alive(slot.pid)).toBe(false);
    await expect(get(slot.port)).rejects.toThrow();
    expect((await activities.listSlots({ environment })).some((s) => s.slotId === slot.slotId)).toBe(false);
    expect(existsSync(recordFile)).toBe(false);
    expect(await slotLogTail(setup, slot.slotId, 5)).toContain('SIGTERM: bye');
  });

  test('startSlot is idempotent, also when two starts race', async () => {
    const [a, b] = await Promise.all([activities.startSlot(spec('ok')), activities.startSlot(spec('ok'))]);
    const c = await activities.startSlot(spec('ok'));
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    await activities.stopSlot({ slotId: a.slotId });
  });

  test('stopSlot is idempotent: a stopped or unknown slot is stopped:false, no error', async () => {
    const slot = await activities.startSlot(spec('ok'));
    expect(await activities.stopSlot({ slotId: slot.slotId, graceMs: 1000 })).toEqual({ stopped: true });
    expect(await activities.stopSlot({ slotId: slot.slotId, graceMs: 1000 })).toEqual({ stopped: false });
    expect(await activities.stopSlot({ slotId: 'shop.web.000000000000.original' })).toEqual({ stopped: false });
  });

  test('a slot that ignores SIGTERM is killed after the grace', async () => {
    const slot = await activities.startSlot(spec('ok', { databases: 'temporary', readOnly: true }));
    await activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 });
    process.kill(slot.pid, 'SIGSTOP'); // a stopped process cannot handle SIGTERM
    const started = Date.now();
    expect(await activities.stopSlot({ slotId: slot.slotId, graceMs: 500 })).toEqual({ stopped: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(await alive(slot.pid)).toBe(false);
  });

  test('an exited slot is listed with its exit code, and startSlot starts it again', async () => {
    const first = await activities.startSlot(spec('crash'));
    await expect
      .poll(async () => (await activities.listSlots({ environment })).find((s) => s.slotId === first.slotId)?.state, { timeout: 5000 })
      .toBe('exited');
    const exited = (await activities.listSlots({ environment })).find((s) => s.slotId === first.slotId)!;
    expect(exited).toMatchObject({ state: 'exited', exitCode: 3, pid: first.pid });
    const again = await activities.startSlot(spec('crash'));
    expect(again.state).toBe('running');
    expect(again.pid).not.toBe(first.pid);
    expect(await activities.stopSlot({ slotId: again.slotId })).toEqual({ stopped: expect.any(Boolean) });
  });

  test('a pid reused by another process is not mistaken for the slot, and is never signalled', async () => {
    const slot = await activities.startSlot(spec('ok'));
    const recordFile = join(slotsDirOf(setup.stateDir, setup.host), `${slot.slotId}.json`);
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { processStartTime: string };
    writeFileSync(recordFile, JSON.stringify({ ...record, processStartTime: '1' }));
    const listed = (await activities.listSlots({ environment })).find((s) => s.slotId === slot.slotId);
    expect(listed).toMatchObject({ state: 'exited', exitCode: null });
    expect(await activities.stopSlot({ slotId: slot.slotId })).toEqual({ stopped: false });
    expect(await alive(slot.pid)).toBe(true);
    process.kill(-slot.pid, 'SIGKILL');
  });

  test('a second agent over the same state dir re-adopts running slots', async () => {
    const slot = await activities.startSlot(spec('ok'));
    const other = createHostActivities({
      config: setup.config,
      host: setup.host,
      store: setup.store,
      stateDir: setup.stateDir,
      cutoverRoot: process.cwd(),
      env: agentEnv,
    });
    expect((await other.listSlots({ environment })).find((s) => s.slotId === slot.slotId)).toEqual(slot);
    expect(await other.startSlot(spec('ok'))).toEqual(slot);
    expect(await other.stopSlot({ slotId: slot.slotId, graceMs: 1000 })).toEqual({ stopped: true });
    expect(await alive(slot.pid)).toBe(false);
  });

  test('refuses what it cannot run, naming what is wrong', async () => {
    expect(await failureOf(activities.startSlot(spec('ok', { environment: 'nope' })))).toMatchObject({
      type: 'invalid-input',
      message: expect.stringContaining('Unknown environment "nope"'),
    });
    expect(await failureOf(activities.startSlot(spec('ok', { site: 'api' })))).toMatchObject({
      type: 'invalid-input',
      message: expect.stringContaining('no site "api"'),
    });
    expect(await failureOf(activities.startSlot(spec('ok', { packageSha256: 'f'.repeat(64) })))).toMatchObject({
      type: 'invalid-input',
      message: expect.stringContaining('import it first'),
    });
    expect(await failureOf(activities.warmUpSlot({ slotId: 'shop.web.000000000000.original', path: '/', timeoutMs: 1000 }))).toMatchObject({
      type: 'invalid-input',
      nonRetryable: true,
    });
    const withoutSecret = createHostActivities({
      config: setup.config,
      host: setup.host,
      store: setup.store,
      stateDir: setup.stateDir,
      cutoverRoot: process.cwd(),
      env: { PATH: process.env.PATH },
    });
    expect(await failureOf(withoutSecret.startSlot(spec('ok', { databases: 'temporary' })))).toMatchObject({
      type: 'invalid-input',
      message: expect.stringContaining(appDatabaseEnv),
    });
    const missingCommand = await setup.store.importPackage(
      packageDir({ name: 'agent-test', version: '9.9.9', start: ['no-such-command-for-cutover'], warmupPath: '/' }),
    );
    expect(await failureOf(activities.startSlot({ ...spec('ok'), packageSha256: missingCommand.ref.sha256 }))).toMatchObject({
      type: 'startup-error',
      message: expect.stringContaining('ENOENT'),
    });
    const elsewhere = createHostActivities({
      config: setup.config,
      host: 'other-host',
      store: setup.store,
      stateDir: setup.stateDir,
      cutoverRoot: process.cwd(),
      env: agentEnv,
    });
    expect(await failureOf(elsewhere.startSlot(spec('ok')))).toMatchObject({
      type: 'invalid-input',
      message: expect.stringContaining(`runs its slots on host ${setup.host}`),
    });
  });
});

describe('the demo app', () => {
  test('warms up on the original and on the read-only clone, which refuses writes clearly', async () => {
    const original = await activities.startSlot({
      environment,
      site: 'web',
      packageSha256: demoSha,
      databases: 'original',
      readOnly: false,
    });
    const clone = await activities.startSlot({ environment, site: 'web', packageSha256: demoSha, databases: 'temporary', readOnly: true });
    for (const slot of [original, clone]) {
      expect(slot.packageVersion).toBe('1.0.0');
      expect((await activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 15_000 })).status).toBe(200);
    }
    const post = (port: number) =>
      fetch(`http://127.0.0.1:${port}/notes`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ body: 'hello' }),
      });
    expect((await post(original.port)).status).toBe(201);
    expect((await post(clone.port)).status).toBe(503);
    expect(await slotLogTail(setup, clone.slotId, 5)).toContain('(read-only clone)');
    await activities.stopSlot({ slotId: original.slotId });
    await activities.stopSlot({ slotId: clone.slotId });
  });
});

describe('slot environment and secrets', () => {
  test('a temporary slot gets X__cutover_tmp, its own variables and nothing else of the agent', async () => {
    const slot = await activities.startSlot(spec('ok', { databases: 'temporary', readOnly: true }));
    await activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 });
    const env = JSON.parse((await get(slot.port, '/env')).text) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(
      [
        ...['CUTOVER_DB_APP_URL', 'CUTOVER_ENVIRONMENT', 'CUTOVER_READONLY', 'CUTOVER_SITE', 'CUTOVER_SLOT'],
        ...['DATABASE_URL', 'HOME', 'HOST', 'NODE_PATH', 'PATH', 'PORT'],
      ].sort(),
    );
    expect(new URL(env.DATABASE_URL!).pathname).toBe(`/${dbName}__cutover_tmp`);
    expect(new URL(env.DATABASE_URL!).username).toBe(roles.app);
    expect(env.HOME).toBe(slotHomeOf(setup.stateDir, setup.host, environment));
    expect(env.CUTOVER_DB_APP_URL).toBe(env.DATABASE_URL);
    expect(env).toMatchObject({
      CUTOVER_READONLY: '1',
      CUTOVER_SLOT: slot.slotId,
      CUTOVER_SITE: 'web',
      CUTOVER_ENVIRONMENT: environment,
      HOST: '127.0.0.1',
      PORT: String(slot.port),
      NODE_PATH: join(process.cwd(), 'node_modules'),
    });
    // The slot really reaches the read-only copy (pg found through NODE_PATH).
    expect(JSON.parse((await get(slot.port, '/db')).text)).toEqual({ db: `${dbName}__cutover_tmp`, ro: 'on' });

    const original = await activities.startSlot(spec('ok'));
    await activities.warmUpSlot({ slotId: original.slotId, path: '/healthz', timeoutMs: 10_000 });
    const originalEnv = JSON.parse((await get(original.port, '/env')).text) as Record<string, string>;
    expect(new URL(originalEnv.DATABASE_URL!).pathname).toBe(`/${dbName}`);
    expect(originalEnv.CUTOVER_READONLY).toBe('0');

    // Secrets stay on the host: not in SlotInfo, not in the records.
    const dir = slotsDirOf(setup.stateDir, setup.host);
    for (const s of [slot, original]) {
      expect(JSON.stringify(s)).not.toContain(password);
      expect(readFileSync(join(dir, `${s.slotId}.json`), 'utf8')).not.toContain(password);
      expect(readFileSync(join(dir, `${s.slotId}.json`), 'utf8')).not.toContain('postgres://');
    }
    await activities.stopSlot({ slotId: slot.slotId });
    await activities.stopSlot({ slotId: original.slotId });
  });
});

describe('warmUpSlot classification (real processes)', () => {
  test('connection refused while the process starts is waited out', async () => {
    const slot = await activities.startSlot(spec('slow-start'));
    const heartbeats: unknown[] = [];
    const mock = new MockActivityEnvironment();
    mock.on('heartbeat', (d: unknown) => heartbeats.push(d));
    const result = (await mock.run(activities.warmUpSlot, { slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 })) as WarmUpResult;
    expect(result.status).toBe(200);
    expect(result.attempts).toBeGreaterThan(2);
    expect(result.elapsedMs).toBeGreaterThanOrEqual(1000);
    expect(heartbeats.length).toBeGreaterThanOrEqual(result.attempts - 1);
    await activities.stopSlot({ slotId: slot.slotId });
  });

  test('a process that exits → startup-error with the exit code and the log tail', async () => {
    const slot = await activities.startSlot(spec('crash'));
    const failure = await failureOf(activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 }));
    expect(failure).toMatchObject({ type: 'startup-error', nonRetryable: true });
    expect(failure.message).toContain('exited with code 3');
    expect(failure.message).toContain('fatal: cannot load configuration file settings.json');
    await activities.stopSlot({ slotId: slot.slotId });
  });

  test('HTTP 403 → ip-forbidden', async () => {
    const slot = await activities.startSlot(spec('forbidden'));
    const failure = await failureOf(activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 }));
    expect(failure).toMatchObject({ type: 'ip-forbidden', nonRetryable: true });
    expect(failure.message).toContain('HTTP 403');
    await activities.stopSlot({ slotId: slot.slotId });
  });

  test('HTTP 500 forever → warmup-failed after the timeout, with the last status and the log tail', async () => {
    const slot = await activities.startSlot(spec('error'));
    const started = Date.now();
    const failure = await failureOf(activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 1500 }));
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500);
    expect(failure).toMatchObject({ type: 'warmup-failed', nonRetryable: true });
    expect(failure.message).toContain('last answer HTTP 500');
    expect(failure.message).toContain('test server error starting');
    await activities.stopSlot({ slotId: slot.slotId });
  });

  test('writes refused by the read-only clone during warmup → readonly-not-supported, no secret in the message', async () => {
    const slot = await activities.startSlot(spec('write-on-warmup', { databases: 'temporary', readOnly: true }));
    const failure = await failureOf(activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 }));
    expect(failure).toMatchObject({ type: 'readonly-not-supported', nonRetryable: true });
    expect(failure.message).toContain('read-only transaction');
    expect(failure.message).not.toContain(password);
    await activities.stopSlot({ slotId: slot.slotId });

    // The same package on the writable original warms up fine.
    const writable = await activities.startSlot(spec('write-on-warmup'));
    expect((await activities.warmUpSlot({ slotId: writable.slotId, path: '/healthz', timeoutMs: 10_000 })).status).toBe(200);
    await activities.stopSlot({ slotId: writable.slotId });
  });

  test('a crash on the read-only clone at startup → readonly-not-supported', async () => {
    const slot = await activities.startSlot(spec('write-at-startup', { databases: 'temporary', readOnly: true }));
    const failure = await failureOf(activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 }));
    expect(failure).toMatchObject({ type: 'readonly-not-supported' });
    expect(failure.message).toContain('exited with code 1');
    expect(failure.message).toContain('25006');
    await activities.stopSlot({ slotId: slot.slotId });
  });
});

describe("isolation: a slot cannot reach Cutover's secrets nor another environment", () => {
  const json = async (port: number, path: string) => JSON.parse((await get(port, path)).text) as Record<string, unknown>;

  test.runIf(isRoot())("as root, the slot runs as its environment's own user and cannot read the agent's environment", async () => {
    const slot = await activities.startSlot(spec('ok'));
    await activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 });
    const user = await lookUpUser('cutover-shop');
    expect(user).not.toBeNull();
    const me = await json(slot.port, '/whoami');
    expect(me).toMatchObject({ uid: user!.uid, gid: user!.gid, home: slotHomeOf(setup.stateDir, setup.host, environment) });
    expect(me.uid).not.toBe(0);
    expect(me.groups).not.toContain(0);
    // The agent is this process: its environ holds every login it has, and other secrets.
    expect(readFileSync(`/proc/${process.pid}/environ`, 'utf8').length).toBeGreaterThan(0);
    expect(await json(slot.port, `/read?path=${encodeURIComponent(`/proc/${process.pid}/environ`)}`)).toEqual({ code: 'EACCES' });
    // Nor the slots' records and logs (its own log included: apps print secrets), nor the config.
    const log = join(slotsDirOf(setup.stateDir, setup.host), `${slot.slotId}.log`);
    expect(await json(slot.port, `/read?path=${encodeURIComponent(log)}`)).toEqual({ code: 'EACCES' });
    // Its home is its own and closed to others.
    const home = statSync(slotHomeOf(setup.stateDir, setup.host, environment));
    expect({ uid: home.uid, mode: (home.mode & 0o777).toString(8) }).toEqual({ uid: user!.uid, mode: '700' });
    await activities.stopSlot({ slotId: slot.slotId });
  });

  test("the slot's login reads and writes its tables, and can neither drop another environment's database nor create one", async () => {
    const slot = await activities.startSlot(spec('ok'));
    await activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 });
    const sql = (q: string) => json(slot.port, `/sql?q=${encodeURIComponent(q)}`);
    expect(await sql("insert into notes (body) values ('from the slot') returning body")).toEqual({ rows: [{ body: 'from the slot' }] });
    expect(await sql('select current_user as login')).toEqual({ rows: [{ login: roles.app }] });
    expect(await sql(`drop database ${otherDbName}`)).toMatchObject({ code: '42501', message: expect.stringContaining('must be owner') });
    expect(await sql(`create database ${dbName}_stolen`)).toMatchObject({
      code: '42501',
      message: expect.stringContaining('permission denied to create database'),
    });
    expect(await sql('create table mine (id int)')).toMatchObject({ code: '42501' });
    await admin(async (c) => expect((await c.query('select 1 from pg_database where datname = $1', [otherDbName])).rowCount).toBe(1));
    await activities.stopSlot({ slotId: slot.slotId });
  });

  test('a warm-up failure carries the log tail without anything that looks like a secret', async () => {
    const slot = await activities.startSlot(spec('print-secrets'));
    const failure = await failureOf(activities.warmUpSlot({ slotId: slot.slotId, path: '/healthz', timeoutMs: 10_000 }));
    expect(failure).toMatchObject({ type: 'startup-error', nonRetryable: true });
    const raw = readFileSync(join(slotsDirOf(setup.stateDir, setup.host), `${slot.slotId}.log`), 'utf8');
    const secrets = [
      ...['AKIAIOSFODNN7EXAMPLE', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'sk_live_4eC39HqLyjWDarjtT1zdp7dc'],
      ...['xoxb-2222222222-abcdefghijklmnop', 'r3dis-pa55word', 'Mail-Pa55', password],
    ];
    for (const secret of secrets) expect(raw).toContain(secret); // the app really printed them
    for (const secret of secrets) expect(failure.message).not.toContain(secret);
    expect(failure.message).toContain('fatal: cannot start with postgres://');
    expect(failure.message).toContain('Authorization: Bearer ***');
    await activities.stopSlot({ slotId: slot.slotId });
  });
});
