/** The pure parts of the host agent: warm-up classification, credential scrubbing, log tails, naming. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { hostTaskQueue, slotIdFor } from '../../src/platform/agent/contract.js';
import { scrubSecrets, secretsOf } from '../../src/platform/agent/scrub.js';
import { readLogTail, startMarkerLine } from '../../src/platform/agent/slot-log.js';
import { classifyWarmup, type WarmupObservation } from '../../src/platform/agent/warmup.js';

function observe(overrides: Partial<WarmupObservation>): WarmupObservation {
  return {
    slotId: 'shop.web.0123456789ab.temporary',
    path: '/healthz',
    readOnly: false,
    attempt: { kind: 'no-answer', error: 'connection refused (ECONNREFUSED)' },
    exit: null,
    logTail: '',
    attempts: 3,
    elapsedMs: 750,
    timeoutMs: 60_000,
    timedOut: false,
    ...overrides,
  };
}

const response = (status: number, body = '') => ({ kind: 'response' as const, status, body });

describe('classifyWarmup', () => {
  test('200 is ready', () => {
    expect(classifyWarmup(observe({ attempt: response(200) }))).toEqual({ outcome: 'ready' });
  });

  test('connection refused, 404 and 500 keep polling while the process lives and time remains', () => {
    expect(classifyWarmup(observe({}))).toEqual({ outcome: 'keep-polling' });
    expect(classifyWarmup(observe({ attempt: response(404) }))).toEqual({ outcome: 'keep-polling' });
    expect(classifyWarmup(observe({ attempt: response(503, 'starting') }))).toEqual({ outcome: 'keep-polling' });
  });

  test('an exited process is a startup-error with its exit code and log tail, even if something answered', () => {
    const verdict = classifyWarmup(
      observe({ exit: { exitCode: 1, exitSignal: null }, logTail: 'Error: Cannot find module express', attempt: response(200) }),
    );
    expect(verdict).toMatchObject({ outcome: 'failed', failureClass: 'startup-error' });
    expect(verdict.outcome === 'failed' && verdict.message).toMatch(/exited with code 1[\s\S]*Cannot find module express/);
    const killed = classifyWarmup(observe({ exit: { exitCode: null, exitSignal: 'SIGKILL' } }));
    expect(killed.outcome === 'failed' && killed.message).toContain('killed by SIGKILL');
    const unknown = classifyWarmup(observe({ exit: { exitCode: null, exitSignal: null } }));
    expect(unknown.outcome === 'failed' && unknown.message).toContain('exit code unknown');
  });

  test('403 is ip-forbidden at once', () => {
    expect(classifyWarmup(observe({ attempt: response(403, 'Forbidden') }))).toMatchObject({
      outcome: 'failed',
      failureClass: 'ip-forbidden',
    });
  });

  test('read-only evidence on a read-only slot → readonly-not-supported', () => {
    const readOnly = true;
    // the failed response says so
    expect(classifyWarmup(observe({ readOnly, attempt: response(500, 'cannot execute INSERT in a read-only transaction') }))).toMatchObject(
      { failureClass: 'readonly-not-supported' },
    );
    expect(classifyWarmup(observe({ readOnly, attempt: response(500, 'database is read-only') }))).toMatchObject({
      failureClass: 'readonly-not-supported',
    });
    // a failed response, and the log shows the refused write
    expect(
      classifyWarmup(observe({ readOnly, attempt: response(500, 'Internal Server Error'), logTail: 'error: SQLSTATE 25006' })),
    ).toMatchObject({ failureClass: 'readonly-not-supported' });
    // the process died saying read-only
    expect(
      classifyWarmup(observe({ readOnly, exit: { exitCode: 1, exitSignal: null }, logTail: 'fatal: database is read-only' })),
    ).toMatchObject({ failureClass: 'readonly-not-supported' });
    expect(
      classifyWarmup(observe({ readOnly, exit: { exitCode: 1, exitSignal: null }, logTail: 'could not write: read-only' })),
    ).toMatchObject({ failureClass: 'readonly-not-supported' });
    // timed out with refused writes in the log
    expect(
      classifyWarmup(observe({ readOnly, timedOut: true, logTail: 'ERROR: cannot execute UPDATE in a read-only transaction' })),
    ).toMatchObject({ failureClass: 'readonly-not-supported' });
  });

  test('read-only evidence is ignored on a writable slot, and a read-only banner alone fails nothing', () => {
    expect(classifyWarmup(observe({ attempt: response(500, 'read-only transaction') }))).toEqual({ outcome: 'keep-polling' });
    expect(classifyWarmup(observe({ exit: { exitCode: 1, exitSignal: null }, logTail: 'read-only transaction' }))).toMatchObject({
      failureClass: 'startup-error',
    });
    // An app that announces its read-only mode and is still starting is given its time.
    expect(classifyWarmup(observe({ readOnly: true, logTail: 'running in read-only mode' }))).toEqual({ outcome: 'keep-polling' });
    expect(
      classifyWarmup(
        observe({ readOnly: true, attempt: response(503, 'starting'), logTail: 'listening on http://127.0.0.1:4000 (read-only clone)' }),
      ),
    ).toEqual({ outcome: 'keep-polling' });
    expect(
      classifyWarmup(
        observe({
          readOnly: true,
          exit: { exitCode: 1, exitSignal: null },
          logTail: 'listening (read-only clone)\nTypeError: x is undefined',
        }),
      ),
    ).toMatchObject({ failureClass: 'startup-error' });
    expect(
      classifyWarmup(observe({ readOnly: true, attempt: response(200), logTail: 'ERROR 25006 caught, continuing read-only' })),
    ).toEqual({ outcome: 'ready' });
  });

  test('timeout → warmup-failed naming the last status or connection error, and the log tail', () => {
    const status = classifyWarmup(observe({ timedOut: true, attempt: response(500, 'boom'), logTail: 'TypeError: x is undefined' }));
    expect(status).toMatchObject({ outcome: 'failed', failureClass: 'warmup-failed' });
    expect(status.outcome === 'failed' && status.message).toMatch(
      /within 60000 ms[\s\S]*last answer HTTP 500: boom[\s\S]*TypeError: x is undefined/,
    );
    const refused = classifyWarmup(observe({ timedOut: true }));
    expect(refused.outcome === 'failed' && refused.message).toContain('connection refused (ECONNREFUSED)');
    expect(refused.outcome === 'failed' && refused.message).toContain('the slot wrote no log lines');
  });

  test('messages never carry credentials', () => {
    const verdict = classifyWarmup(
      observe({
        timedOut: true,
        attempt: response(500, 'connect postgres://app:hunter22@db/x failed'),
        logTail: 'url=postgresql://app:hunter22@db:5432/x',
      }),
    );
    expect(verdict.outcome === 'failed' && verdict.message).not.toContain('hunter22');
    expect(verdict.outcome === 'failed' && verdict.message).toContain('postgres://app:***@db/x');
  });
});

describe('scrubSecrets', () => {
  test('URL credentials, connection-string passwords and query passwords', () => {
    expect(scrubSecrets('postgres://user:pass@host:5432/db')).toBe('postgres://user:***@host:5432/db');
    expect(scrubSecrets('DATABASE_URL=postgresql://u:p%40ss@h/d?sslmode=require')).toBe(
      'DATABASE_URL=postgresql://u:***@h/d?sslmode=require',
    );
    expect(scrubSecrets('Server=tcp:x,1433;User ID=sa;Password=Str0ng!;Encrypt=true')).toBe(
      'Server=tcp:x,1433;User ID=sa;Password=***;Encrypt=true',
    );
    expect(scrubSecrets('pwd = "a b c";')).toBe('pwd = ***;');
    expect(scrubSecrets('postgres://h/d?user=u&password=pw1')).toBe('postgres://h/d?user=u&password=***');
    expect(scrubSecrets('the secret is hunter22, see', ['hunter22'])).toBe('the secret is ***, see');
  });

  test('secret-looking values an application prints: keys, tokens, bearer and basic credentials, named secrets', () => {
    const cases: Array<[string, string]> = [
      ['AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE', 'AWS_ACCESS_KEY_ID=***'],
      ['aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'aws_secret_access_key = ***'],
      ['using key ASIAY34FZKBOKMUTVV7A for s3', 'using key *** for s3'],
      ['Authorization: Bearer abc.def-ghi_jkl', 'Authorization: Bearer ***'],
      ['authorization=Basic dXNlcjpwYXNz', 'authorization=Basic ***'],
      ['retrying with bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'retrying with bearer ***'],
      ['{"password":"hunter2","user":"bob","apiKey": "abc123"}', '{"password":***,"user":"bob","apiKey": ***}'],
      ['SLACK_BOT_TOKEN=xoxb-1234567890-abcdefghij', 'SLACK_BOT_TOKEN=***'],
      ['posting with xoxb-1234567890-abcdefghij', 'posting with ***'],
      ['secret_key=s3cr3t client_secret: zzz x-api-key: k-123', 'secret_key=*** client_secret: *** x-api-key: ***'],
      ['https://api.example.com/v1?access_token=abcdef&page=2', 'https://api.example.com/v1?access_token=***&page=2'],
      ['redis://:r3dis@cache:6379/0 amqp://guest:guest@mq:5672', 'redis://:***@cache:6379/0 amqp://guest:***@mq:5672'],
      ['cloning with ghp_abcdefghijklmnopqrstuvwxyz0123456789', 'cloning with ***'],
      ['stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc', 'stripe ***'],
      ['-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----\nnext line', '***\nnext line'],
      ['Driver={x};Pwd={a;b};', 'Driver={x};Pwd=***;'],
    ];
    for (const [text, scrubbed] of cases) expect(scrubSecrets(text)).toBe(scrubbed);
  });

  test('leaves what is not a credential alone', () => {
    const text = 'GET http://127.0.0.1:8080/healthz 200; mail admin@example.com; postgres://user@host/db';
    expect(scrubSecrets(text)).toBe(text);
    const harmless = ['password authentication failed for user "shop"', 'tokens: 5, keys: 3, secretary: bob', 'SQLSTATE 25006 read-only'];
    for (const line of harmless) {
      expect(scrubSecrets(line)).toBe(line);
    }
  });

  test('secretsOf finds the passwords of connection strings', () => {
    expect(secretsOf(['postgres://u:p%40ss@h/d', 'postgres://u@h/d', 'Server=x;Password=abc123;'])).toEqual(['p@ss', 'p%40ss', 'abc123']);
  });
});

describe('readLogTail', () => {
  test('last lines, only of the current run when asked, empty for a missing file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'cutover-log-')), 'slot.log');
    writeFileSync(file, `${startMarkerLine('s', '1', 't0')}old 1\nold 2\n${startMarkerLine('s', '1', 't1')}new 1\nnew 2\nnew 3\n`);
    expect(await readLogTail(file, 2)).toBe('new 2\nnew 3');
    expect(await readLogTail(file, 100, { sinceLastStart: true })).toBe('new 1\nnew 2\nnew 3');
    expect(await readLogTail(file, 0)).toBe('');
    expect(await readLogTail(join(file, '..', 'missing.log'), 5)).toBe('');
  });
});

test('slot ids and host task queues', () => {
  const sha = 'ab'.repeat(32);
  expect(slotIdFor({ environment: 'acme-production', site: 'shop', packageSha256: sha, databases: 'temporary' })).toBe(
    'acme-production.shop.abababababab.temporary',
  );
  expect(hostTaskQueue('local')).toBe('cutover-host-local');
});
