/**
 * Determinism guard: recorded histories of every path must replay against today's workflow code.
 * A change that breaks them needs patched() (see README). Re-record with CUTOVER_RECORD_HISTORIES=1 npm test.
 */
import { Worker } from '@temporalio/worker';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';

const dir = fileURLToPath(new URL('./histories', import.meta.url));
// Today's histories at the top; release-1/ holds those the first release recorded, which patched() keeps replaying.
const files = readdirSync(dir, { recursive: true, encoding: 'utf8' })
  .filter((f) => f.endsWith('.json'))
  .sort();
const workflowsPath = fileURLToPath(new URL('../../src/workflows/index.ts', import.meta.url));

describe('workflow replay', () => {
  test('histories of every path are recorded', () => {
    const paths = files.map((f) => f.replace(/\.json$/, ''));
    const everyPath = [
      'complete',
      'reset-code-only',
      'reset-with-database',
      'failed-then-reset',
      'failed-superseded',
      'resumed',
      'environment',
    ];
    for (const path of everyPath) expect(paths).toContain(`release-1/${path}`);
    for (const path of [
      ...everyPath,
      'clone-failed-superseded',
      'two-sites-failed-then-reset',
      'analysis-failed-reset',
      'expand-contract',
      'expand-contract-refused',
      'readwrite-replay-complete',
      'readwrite-replay-reset-with-database',
      'rolling',
      'rolling-reset',
      'rolling-failed-then-reset',
    ])
      expect(paths).toContain(path);
  });

  test.each(files)(
    '%s replays deterministically',
    async (file) => {
      const history = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      await Worker.runReplayHistory({ workflowsPath }, history, file);
    },
    60_000,
  );

  test.each(files)('%s holds no secret', (file) => {
    const text = readFileSync(join(dir, file), 'utf8');
    // Payloads are base64 JSON: decode them all and look for connection strings.
    const decoded = [...text.matchAll(/"data":\s*"([A-Za-z0-9+/=]+)"/g)]
      .map((m) => Buffer.from(m[1]!, 'base64').toString('utf8'))
      .join('\n');
    expect(decoded).not.toMatch(/postgres(ql)?:\/\//);
    expect(decoded).not.toMatch(/sqlserver:\/\//);
    expect(decoded).not.toMatch(/password/i);
  });
});
