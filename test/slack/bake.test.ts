/** The bake after Complete in Slack: an automatic roll-back replaces the message with the breach; builtin metrics show both versions. */
import { describe, expect, test } from 'vitest';
import { awaitingVerificationMessage, outcomeMessage } from '../../src/slack/blocks.js';
import type { AnalysisStatus } from '../../src/workflows/analysis-definitions.js';
import { approver, deploymentStatus } from './fixtures.js';

describe('bake and builtin metrics in Slack messages', () => {
  test('an automatic roll-back names the breach and the version that serves again', () => {
    const breach = 'site web: error rate 50% above 10% (25 of 50 requests)';
    const status = deploymentStatus({
      phase: 'rolled-back',
      actions: [],
      previousPackage: { sha256: 'a'.repeat(64), version: '1.0.0' },
      bake: {
        state: 'rolled-back',
        spec: { durationMs: 60_000, intervalMs: 2_000, maxErrorRate: 0.1, maxP99Ms: null },
        startedAt: '2025-01-01T12:05:00.000Z',
        endedAt: '2025-01-01T12:05:04.000Z',
        intervals: 2,
        last: [{ site: 'web', slotId: 'x', requests: 50, failures: 25, errorRate: 0.5, p99Ms: 3 }],
        breach,
      },
    });
    const message = outcomeMessage(status, 'rolled-back');
    expect(message.text).toMatch(/^Deployment rolled back automatically: /);
    const all = JSON.stringify(message.blocks);
    expect(all).toContain(`*Rolled back automatically* during the bake after Complete: ${breach}. Public traffic is on 1.0.0 again`);
    expect(message.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  test("a builtin metric shows the preview's real traffic next to the live version's", () => {
    const analysis: AnalysisStatus = {
      state: 'finished',
      verdict: 'fail',
      summary: '1 of 1 checks and metrics failed',
      startedAt: '2025-01-01T12:01:00.000Z',
      endedAt: '2025-01-01T12:01:04.000Z',
      checks: [],
      metrics: [
        {
          name: 'error-rate',
          query: "router: (5xx + proxy errors) / requests of the preview's traffic",
          max: 0.1,
          values: [0.2, 0.2],
          breaches: 2,
          verdict: 'fail',
          reason: '2 of 2 samples above 0.1 (limit 0): 0.2, 0.2',
          preview: { requests: 40, failures: 8, errorRate: 0.2, p99Ms: 4 },
          live: { requests: 40, failures: 0, errorRate: 0, p99Ms: 3 },
        },
      ],
    };
    const all = JSON.stringify(awaitingVerificationMessage(deploymentStatus({ analysis }), {}, [approver]).blocks);
    expect(all).toContain('preview 40 requests, 8 failed (20%), p99 4 ms; live 40 requests, 0 failed (0%), p99 3 ms');
  });
});
