/** readwrite-replay: the approval message carries the replay's conflicts, so whoever decides has the facts. */
import { describe, expect, test } from 'vitest';
import { awaitingVerificationMessage, outcomeMessage } from '../../src/slack/blocks.js';
import { approver, deploymentStatus } from './fixtures.js';

const conflict = {
  database: 'app',
  table: 'public.notes',
  key: { id: 1000000042 },
  op: 'insert',
  reason: 'column "author" no longer exists on the original',
};

describe('replay block', () => {
  test('the approval message counts the conflicts and names table, key and reason', () => {
    const status = deploymentStatus({
      mode: 'readwrite-replay',
      replay: { applied: 12, conflictCount: 3, conflicts: [conflict], lastReplayAt: '2025-01-01T12:00:00.000Z', final: false },
    });
    const all = JSON.stringify(awaitingVerificationMessage(status, { web: 'http://127.0.0.1:8091/' }, [approver]).blocks);
    expect(all).toContain('*Clone writes replayed*: 12 applied, 3 conflicts');
    expect(all).toContain('app public.notes {\\"id\\":1000000042}: column \\"author\\" no longer exists on the original');
  });

  test('no replay, no block; a replay without conflict says so', () => {
    expect(JSON.stringify(outcomeMessage(deploymentStatus(), 'completed').blocks)).not.toContain('Clone writes replayed');
    const clean = deploymentStatus({
      replay: { applied: 5, conflictCount: 0, conflicts: [], lastReplayAt: null, final: true },
    });
    expect(JSON.stringify(outcomeMessage(clean, 'completed').blocks)).toContain('*Clone writes replayed*: 5 applied, no conflict');
  });
});
