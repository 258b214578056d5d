/**
 * The approval policy (an environment's `approval` section), enforced by the deployments service whichever channel
 * sends the Complete: an approver not listed and the deployment's own starter are refused, and with two approvals
 * required the first one is recorded and traffic moves only with the second, from another approver.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';

const secret = () => randomBytes(18).toString('base64url');
const tokens = { lead: secret(), approver: secret(), second: secret() };
type Who = keyof typeof tokens;

let stack: TestStack;

beforeAll(async () => {
  stack = await startTestStack({
    auth: () => [
      { name: 'lead', token: tokens.lead, roles: ['deployer', 'approver'] },
      { name: 'approver', token: tokens.approver, roles: ['approver'] },
      { name: 'second', token: tokens.second, roles: ['approver'] },
    ],
  });
});
afterAll(async () => {
  await stack?.close();
});

const as = (who: Who, method: string, path: string, body?: unknown) =>
  stack.api(method, path, body, { authorization: `Bearer ${tokens[who]}` });
const complete = (who: Who, id: string) => as(who, 'POST', `/v1/deployments/${id}/complete`, {});
/** The policy as the operator writes it in cutover.yaml, read by the API at each Complete. */
const setPolicy = (policy: { approvers?: string[]; allowSelfApproval: boolean; required: number }) => {
  stack.config.environments[stack.environment]!.approval = policy;
};

describe.sequential('approval policy', () => {
  test('only the listed approvers, and never the one who started the deployment, may Complete it', async () => {
    setPolicy({ approvers: ['lead', 'second'], allowSelfApproval: false, required: 1 });
    // A name in the body decorates the log; who started it is the token's name.
    const started = await as('lead', 'POST', `/v1/environments/${stack.environment}/deployments`, {
      package: `${process.cwd()}/examples/demo-app/v1`,
      mode: 'readonly',
      requestedBy: 'second',
    });
    expect(started.status).toBe(202);
    const id = started.body.deploymentId as string;
    const waiting = await stack.waitForPhase(id, ['awaiting-verification'], 150_000);
    expect(waiting.startedBy).toBe('lead');

    const unlisted = await complete('approver', id);
    expect(unlisted.status).toBe(403);
    expect(unlisted.body.error).toEqual({
      code: 'approval-refused',
      message: `approver may not Complete deployments of ${stack.environment}: its approval.approvers are lead, second`,
    });
    const self = await complete('lead', id);
    expect(self.status).toBe(403);
    expect(self.body.error.message).toBe(
      `lead started deployment ${id} and may not Complete it: ${stack.environment} does not allow self-approval`,
    );
    const unchanged = await as('approver', 'GET', `/v1/deployments/${id}`);
    expect(unchanged.body).toMatchObject({ phase: 'awaiting-verification', decision: null, approvals: { required: 1, received: [] } });

    const accepted = await complete('second', id);
    expect(accepted.status).toBe(200);
    expect(accepted.body.decision).toMatchObject({ action: 'complete', requestedBy: 'second', at: expect.any(String) });
    const done = await stack.waitForPhase(id, ['completed'], 150_000);
    expect(done.approvals.received.map((a: { by: string }) => a.by)).toEqual(['second']);
  }, 240_000);

  test('with two approvals required, the first is recorded, the same approver cannot count twice, the second moves traffic', async () => {
    setPolicy({ allowSelfApproval: true, required: 2 });
    const id = await stack.deploy('examples/demo-app/v2', 'maintenance-page');
    await stack.waitForPhase(id, ['awaiting-verification'], 150_000);

    const first = await complete('approver', id);
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ phase: 'awaiting-verification', decision: null, actions: ['complete', 'reset'] });
    expect(first.body.approvals).toEqual({ required: 2, received: [{ by: 'approver', at: expect.any(String) }] });

    const again = await complete('approver', id);
    expect(again.status).toBe(409);
    expect(again.body.error.message).toBe(
      'approver already approved this deployment (1 of 2 approvals): another approver must Complete it',
    );
    // Traffic has not moved: still awaiting verification after the refused second Complete.
    expect((await as('approver', 'GET', `/v1/deployments/${id}`)).body.phase).toBe('awaiting-verification');

    const second = await complete('second', id);
    expect(second.status).toBe(200);
    expect(second.body.decision).toMatchObject({ action: 'complete', requestedBy: 'second' });
    const done = await stack.waitForPhase(id, ['completed'], 150_000);
    expect(done.approvals.received.map((a: { by: string }) => a.by)).toEqual(['approver', 'second']);
    const log = await as('approver', 'GET', `/v1/deployments/${id}/log`);
    expect(log.text).toContain('Approval 1 of 2 for Complete by approver; waiting for 1 more');
    expect(log.text).toContain('Complete requested by second');
  }, 240_000);
});
