/**
 * The built `cutover` command as a real child process, from another directory, against the API served on a
 * real port in front of a whole Cutover with auth enabled: deploy --wait, complete, reset, logs, exit codes.
 */
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/process/free-port.js';
import { packDirectory } from '../../src/packages/pack.js';
import { startTestStack, type TestStack } from '../support/stack.js';
import { deploymentRequestOf } from '../support/workflow-input.js';

const bin = resolve('bin/cutover.js');
const example = (path: string) => resolve('examples', path);
const elsewhere = mkdtempSync(join(tmpdir(), 'cutover-cli-cwd-'));
const tokens = { ci: randomBytes(18).toString('base64url'), approver: randomBytes(18).toString('base64url') };

let stack: TestStack;
let api: { url: string; close(): Promise<void> };

beforeAll(async () => {
  stack = await startTestStack({
    auth: () => [
      { name: 'ci', token: tokens.ci, roles: ['deployer'] },
      { name: 'release-manager', token: tokens.approver, roles: ['approver'] },
    ],
    apiSettings: { logPollIntervalMs: 100 },
  });
  api = await stack.serveApi();
});
afterAll(async () => {
  await stack?.close();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const childEnv = (extra: Record<string, string>) => ({
  ...process.env,
  CUTOVER_API_URL: api.url,
  CUTOVER_TOKEN: tokens.ci,
  CUTOVER_POLL_MS: '150',
  ...extra,
});

/** `cutover ...` from a directory that is not the repository; stdout is a pipe, so progress is one line per phase. */
function cutover(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done) => {
    execFile(process.execPath, [bin, ...args], { cwd: elsewhere, env: childEnv(env), timeout: 120_000 }, (error, stdout, stderr) => {
      done({ code: error ? Number((error as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const asApprover = { CUTOVER_TOKEN: tokens.approver };

describe('cutover', () => {
  let first: string;

  test('--help works from any directory', async () => {
    const r = await cutover(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: cutover <command>/);
    expect(r.stdout).toContain('Exit codes:');
  });

  test('environments: the ones the token may see', async () => {
    const r = await cutover(['environments']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^NAME +HOST +SITES +DATABASES\\n${stack.environment} `));
    expect(r.stdout).toContain('app (postgres)');
  });

  test('deploy --wait: packs and uploads the folder, prints each phase, exits 0 awaiting verification', async () => {
    const args = ['--wait', '--requested-by', 'pipeline-42', '--allow-missing-migrations'];
    const r = await cutover(['deploy', stack.environment, example('demo-app/v1'), ...args]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^Uploaded demo-app 1\.0\.0 as sha256:[0-9a-f]{64}\n$/);
    first = /^Deployment (\S+) of sha256:/m.exec(r.stdout)![1]!;
    const phases = r.stdout.split('\n').flatMap((line) => /^\d\d:\d\d:\d\d (\S+)$/.exec(line)?.[1] ?? []);
    expect(phases).toEqual(['preflight', 'upgrade', 'warmup', 'awaiting-verification']);
    expect(r.stdout).toContain(`Awaiting verification: demo-app 1.0.0 answers on its preview address.`);
    expect(r.stdout).toContain(`preview web: ${stack.previewUrl()}/`);
    expect(r.stdout).toContain(`cutover complete ${first}`);
    const request = await deploymentRequestOf(stack.client, first);
    expect(request).toMatchObject({ requestedBy: 'pipeline-42 (token ci)', allowMissingMigrations: true });
  });

  test('while it awaits verification: deploy is refused (3), status shows it, a deployer may not complete (4)', async () => {
    const busy = await cutover(['deploy', stack.environment, example('demo-app/v2')]);
    expect(busy.code).toBe(3);
    expect(busy.stderr).toContain(`already has a deployment in progress: ${first}`);

    const list = await cutover(['status', '--environment', stack.environment]);
    expect(list.code, list.stderr).toBe(0);
    expect(list.stdout).toMatch(new RegExp(`${first} +${stack.environment} +awaiting-verification +1\\.0\\.0 +readonly +running`));
    const one = await cutover(['status', first]);
    expect(one.stdout).toMatch(/phase +awaiting-verification/);
    expect(one.stdout).toMatch(/actions +complete, reset/);

    const forbidden = await cutover(['complete', first]);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toBe('cutover: token ci may not complete a deployment: it needs the role approver\n');
    const anonymous = await cutover(['complete', first], { CUTOVER_TOKEN: '' });
    expect(anonymous.code).toBe(4);
    expect(anonymous.stderr).toContain('give a token with --token or CUTOVER_TOKEN');
  });

  test('complete --wait: exits 0 once completed; again: refused (3); logs show who decided', async () => {
    const r = await cutover(['complete', first, '--wait'], asApprover);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('Completed: demo-app 1.0.0 is live on');
    const again = await cutover(['complete', first], asApprover);
    expect(again.code).toBe(3);
    expect(again.stderr).toMatch(/completed/);

    const logs = await cutover(['logs', first]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/INFO +Complete requested by release-manager\n/);
    const followed = await cutover(['logs', first, '--follow']);
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe(logs.stdout);
  });

  test('a .tar.gz deployed without --wait, followed with logs --follow, reset --rollback-database --wait', async () => {
    const tarball = join(elsewhere, 'v2.tar.gz');
    await packDirectory(example('demo-app/v2'), tarball);
    const started = await cutover(['deploy', stack.environment, tarball, '--mode', 'readwrite', '--json']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stderr).toBe('');
    const id = JSON.parse(started.stdout).deploymentId as string;

    const follower = spawn(process.execPath, [bin, 'logs', id, '--follow'], { cwd: elsewhere, env: childEnv({}) });
    let followed = '';
    follower.stdout.on('data', (chunk: Buffer) => (followed += chunk.toString()));
    const followerExit = new Promise<number | null>((done) => follower.on('exit', (code) => done(code)));

    await stack.waitForPhase(id, ['awaiting-verification']);
    const reset = await cutover(['reset', id, '--rollback-database', '--wait']);
    expect(reset.code, reset.stdout + reset.stderr).toBe(0);
    expect(reset.stdout).toContain('Reset: 1.0.0 is back on');
    // The log stream ends by itself with the deployment; a reset one did not go live: exit 1.
    expect(await followerExit).toBe(1);
    expect(followed).toMatch(/Enabling zero downtime deployment mode readwrite on site web/);
    expect(followed).toMatch(/Reset \(roll back code and database\) requested by ci/);
  });

  test('deploy --wait of a package that fails: exit 1 with the failure class and what to do', async () => {
    const r = await cutover(['deploy', stack.environment, example('faulty/exits-at-startup'), '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.stdout).toMatch(/^\d\d:\d\d:\d\d failed$/m);
    expect(r.stdout).toMatch(/ {4}startup-error: [\s\S]*\n {4}what to do: The application process exited/);
    expect(r.stdout).toMatch(/Reset is available: cutover reset /);
  });

  test('exit codes: usage errors (2), input the API refuses (2), an unreachable API (5)', async () => {
    expect((await cutover([])).code).toBe(2);
    expect((await cutover(['deploy', stack.environment])).code).toBe(2);
    expect((await cutover(['deploy', stack.environment, example('demo-app/v1'), '--mode', 'fast'])).code).toBe(2);
    const canary = await cutover(['deploy', stack.environment, example('demo-app/v1'), '--strategy', 'canary']);
    expect([canary.code, canary.stderr]).toEqual([2, expect.stringMatching(/--strategy must be smooth or rolling/)]);
    const none = await cutover(['deploy', stack.environment, example('demo-app/v1'), '--strategy', 'rolling', '--max-unavailable', '0']);
    expect([none.code, none.stderr]).toEqual([
      2,
      expect.stringMatching(/--max-unavailable must be a whole number of hosts, at least 1, got 0/),
    ]);
    expect((await cutover(['frobnicate'])).code).toBe(2);
    expect((await cutover(['logs', 'x', '--bogus'])).code).toBe(2);
    const missing = await cutover(['deploy', stack.environment, './no-such-package']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no package at \.\/no-such-package/);
    const notFound = await cutover(['status', `${stack.environment}-20200101-000000-0000`]);
    expect(notFound.code).toBe(2);
    expect(notFound.stderr).toMatch(/no deployment with id/);
    const unreachable = await cutover(['environments', '--api', `http://127.0.0.1:${await freePort()}`]);
    expect(unreachable.code).toBe(5);
    expect(unreachable.stderr).toMatch(/unreachable \(ECONNREFUSED\)/);
  });
});
