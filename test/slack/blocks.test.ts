import { describe, expect, test } from 'vitest';
import {
  awaitingVerificationMessage,
  escapeMrkdwn,
  formatRequester,
  outcomeMessage,
  reminderMessage,
  type SlackBlock,
} from '../../src/slack/blocks.js';
import { approver, deploymentStatus } from './fixtures.js';

const texts = (blocks: SlackBlock[]) => JSON.stringify(blocks);
const actionsOf = (blocks: SlackBlock[]) => blocks.filter((b) => b.type === 'actions');

describe('awaiting-verification message', () => {
  const status = deploymentStatus();
  const message = awaitingVerificationMessage(status, { web: 'http://127.0.0.1:8091/' }, [approver, 'U0SECOND']);

  test('names the deployment, environment, versions, mode and preview', () => {
    expect(message.blocks[0]).toEqual({
      type: 'header',
      text: { type: 'plain_text', text: 'Deployment awaiting verification: shop', emoji: true },
    });
    const all = texts(message.blocks);
    for (const fact of [
      'shop-20250101-120000-ab12',
      '*Environment*\\nshop',
      'demo-app 2.0.0 (previous: 1.0.0)',
      '*Mode*\\nreadonly',
      '<http://127.0.0.1:8091/|web: http://127.0.0.1:8091/>',
      `<@${approver}>, <@U0SECOND>`,
    ]) {
      expect(all).toContain(fact);
    }
    expect(message.text).toBe('Deployment shop-20250101-120000-ab12 of 2.0.0 to shop awaits verification');
  });

  test('has Complete, Reset and Reset with database buttons carrying the deployment id', () => {
    const [actions] = actionsOf(message.blocks);
    expect(actions).toBeDefined();
    const buttons = actions!.type === 'actions' ? actions!.elements : [];
    expect(buttons.map((b) => [b.action_id, b.text.text, b.value, b.style])).toEqual([
      ['cutover_complete', 'Complete', status.deploymentId, 'primary'],
      ['cutover_reset', 'Reset', status.deploymentId, undefined],
      ['cutover_reset_database', 'Reset with database', status.deploymentId, 'danger'],
    ]);
    expect(buttons[2]!.confirm).toMatchObject({
      title: { text: 'Reset with database?' },
      confirm: { text: 'Reset code and database' },
      deny: { text: 'Cancel' },
      style: 'danger',
    });
    expect(buttons[0]!.confirm).toBeUndefined();
  });

  test('a first deployment says it has no previous version', () => {
    expect(texts(awaitingVerificationMessage(deploymentStatus({ previousPackage: null }), {}, [approver]).blocks)).toContain(
      '(previous: none (first deployment))',
    );
  });
});

describe('outcome messages', () => {
  test('completed: no buttons, who completed it', () => {
    const message = outcomeMessage(
      deploymentStatus({
        phase: 'completed',
        actions: [],
        decision: { action: 'complete', rollbackDatabase: false, requestedBy: `slack:${approver}` },
      }),
      'completed',
    );
    expect(actionsOf(message.blocks)).toEqual([]);
    expect(message.blocks[0]).toMatchObject({ type: 'header', text: { text: 'Deployment completed: shop' } });
    expect(texts(message.blocks)).toContain(`*Completed* by <@${approver}>: public traffic is on 2.0.0.`);
  });

  test('reset: what was rolled back, by whom or why', () => {
    const byHand = outcomeMessage(
      deploymentStatus({ phase: 'reset', decision: { action: 'reset', rollbackDatabase: true, requestedBy: 'ci-bot' } }),
      'reset',
    );
    expect(texts(byHand.blocks)).toContain('*Reset* by ci-bot: code and database rolled back; public traffic is on 1.0.0.');
    const timedOut = outcomeMessage(
      deploymentStatus({ phase: 'reset', decision: { action: 'reset', rollbackDatabase: false, reason: 'verification timeout' } }),
      'reset',
    );
    expect(texts(timedOut.blocks)).toContain('*Reset* automatically (verification timeout): code rolled back, database kept');
    expect(actionsOf(timedOut.blocks)).toEqual([]);
  });

  test('failed: the class, its title, the message and the remediation', () => {
    const message = outcomeMessage(
      deploymentStatus({
        phase: 'failed',
        failure: {
          class: 'migration-failed',
          message: 'relation "notes" already exists <script>',
          remediation: 'Fix the migration and deploy another package.',
        },
      }),
      'failed',
    );
    const all = texts(message.blocks);
    expect(all).toContain('*Failed: Database migration failed* (`migration-failed`)');
    expect(all).toContain('relation \\"notes\\" already exists &lt;script&gt;');
    expect(all).toContain('*What to do:* Fix the migration and deploy another package.');
    expect(actionsOf(message.blocks)).toEqual([]);
  });
});

test('the reminder names the time verification started and when it will be reset', () => {
  const message = reminderMessage(deploymentStatus(), '2025-01-01T14:01:00.000Z');
  const all = texts(message.blocks);
  expect(all).toContain(
    `still awaits verification since <!date^${Date.parse('2025-01-01T12:01:00.000Z') / 1000}^{date_short_pretty} at {time}|2025-01-01T12:01:00.000Z>`,
  );
  expect(all).toContain('reset automatically <!date^');
  expect(message.text).toContain('since 2025-01-01T12:01:00.000Z');
});

test('user text is escaped and Slack users are mentioned', () => {
  expect(escapeMrkdwn('a <b> & c')).toBe('a &lt;b&gt; &amp; c');
  expect(formatRequester(`slack:${approver}`)).toBe(`<@${approver}>`);
  expect(formatRequester('slack:<!channel>')).toBe('slack:&lt;!channel&gt;');
  expect(formatRequester(undefined)).toBeNull();
});
