import { describe, expect, test } from 'vitest';
import { createProgress, formatDuration } from '../../src/cli/progress.js';
import type { Deployment } from '../../src/cli/types.js';
import { decisionJudge } from '../../src/cli/wait.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 8, 0, s)).toISOString();

function deployment(phase: Deployment['phase'], timings: Array<[string, number, number?]>, extra: Partial<Deployment> = {}): Deployment {
  return {
    deploymentId: 'demo-20260101-080000-abcd',
    workflowId: 'demo-20260101-080000-abcd',
    environment: 'demo',
    mode: 'readonly',
    package: { sha256: 'a'.repeat(64), name: 'demo-app', version: '2.0.0', warmupPath: '/healthz' },
    previousPackage: { sha256: 'b'.repeat(64), version: '1.0.0' },
    phase,
    sites: [],
    actions: [],
    decision: null,
    failure: null,
    timings: timings.map(([p, start, end]) => ({
      phase: p as Deployment['phase'],
      startedAt: at(start),
      ...(end === undefined ? {} : { endedAt: at(end) }),
    })),
    warnings: [],
    startedAt: at(0),
    endedAt: null,
    links: { log: '', temporalUi: '', previews: {}, publics: {} },
    ...extra,
  };
}

const recorder = (isTTY: boolean) => {
  const chunks: string[] = [];
  return { out: { isTTY, write: (text: string) => chunks.push(text) }, chunks };
};

describe('the live progress display', () => {
  test('not a terminal: one line per phase as it starts, then how it ended, with the failure', () => {
    const { out, chunks } = recorder(false);
    const progress = createProgress(out);
    progress.update(deployment('preflight', [['preflight', 0]]));
    progress.update(deployment('preflight', [['preflight', 0]]));
    progress.update(
      deployment('clone', [
        ['preflight', 0, 1],
        ['clone', 1],
      ]),
    );
    const failure = { class: 'warmup-failed', message: 'no 200 on /healthz', remediation: 'make the warmup path answer 200', site: 'web' };
    progress.update(
      deployment(
        'failed',
        [
          ['preflight', 0, 1],
          ['clone', 1, 3],
        ],
        { failure },
      ),
    );
    progress.update(
      deployment(
        'failed',
        [
          ['preflight', 0, 1],
          ['clone', 1, 3],
        ],
        { failure },
      ),
    );
    expect(chunks.join('')).toBe(
      [
        '08:00:00 preflight',
        '08:00:01 clone',
        '08:00:03 failed',
        '    warmup-failed (site web): no 200 on /healthz',
        '    what to do: make the warmup path answer 200',
        '',
      ].join('\n'),
    );
  });

  test('a terminal: the phases redrawn in place, one line each, with durations', () => {
    const { out, chunks } = recorder(true);
    let now = Date.parse(at(2));
    const progress = createProgress(out, () => now);
    progress.update(
      deployment('clone', [
        ['preflight', 0, 1],
        ['clone', 1],
      ]),
    );
    now = Date.parse(at(5));
    progress.update(
      deployment('awaiting-verification', [
        ['preflight', 0, 1],
        ['clone', 1, 3],
        ['awaiting-verification', 3],
      ]),
    );
    expect(chunks[0]).toBe(`  ✓ ${'preflight'.padEnd(22)} 1.0s\n  ▸ ${'clone'.padEnd(22)} 1.0s …\n`);
    // Cursor up two lines, clear below, and the three lines again.
    expect(chunks[1]).toBe(
      `\x1b[2F\x1b[J  ✓ ${'preflight'.padEnd(22)} 1.0s\n  ✓ ${'clone'.padEnd(22)} 2.0s\n  ▸ ${'awaiting-verification'.padEnd(22)} 2.0s\n`,
    );
  });

  test('durations read well', () => {
    expect([formatDuration(400), formatDuration(12_400), formatDuration(125_000)]).toEqual(['0.4s', '12s', '2m 05s']);
  });
});

describe('waiting for a decision', () => {
  test('Reset of a failed deployment: the old failure is not the outcome; a new one is', () => {
    const failure = { class: 'warmup-failed', message: 'first', remediation: 'r' };
    const judge = decisionJudge(deployment('failed', [], { failure }), 'reset');
    expect(judge(deployment('failed', [], { failure }))).toBeNull();
    expect(judge(deployment('resetting', []))).toBeNull();
    expect(judge(deployment('reset', []))).toBe('ok');
    const again = decisionJudge(deployment('failed', [], { failure }), 'reset');
    expect(again(deployment('failed', [], { failure: { ...failure, message: 'second' } }))).toBe('failed');
  });

  test('Complete: failed after it was accepted is a failure', () => {
    const judge = decisionJudge(deployment('awaiting-verification', []), 'completed');
    expect(judge(deployment('completing', []))).toBeNull();
    expect(judge(deployment('failed', []))).toBe('failed');
    expect(decisionJudge(deployment('awaiting-verification', []), 'completed')(deployment('completed', []))).toBe('ok');
  });
});
