import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startTestStack, type TestStack } from '../support/stack.js';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ verificationTimeout: '4s' });
});
afterAll(async () => {
  await stack?.close();
});

describe('verification timeout', () => {
  test('a deployment nobody verifies is reset, never promoted, with the reason in the log', async () => {
    const v1 = await stack.deploy('examples/demo-app/v1');
    await stack.waitForPhase(v1, ['awaiting-verification']);
    await stack.api('POST', `/v1/deployments/${v1}/complete`, {});
    await stack.waitForPhase(v1, ['completed']);

    const v2 = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(v2, ['awaiting-verification']);
    const status = await stack.waitForPhase(v2, ['reset'], 60_000);
    expect(status.decision).toMatchObject({ action: 'reset', rollbackDatabase: false, reason: 'verification timeout' });
    const log = (await stack.api('GET', `/v1/deployments/${v2}/log`)).text;
    expect(log).toContain(
      'Nobody completed or reset the deployment within 4s: resetting it (a deployment is never promoted automatically).',
    );
    expect((await fetch(`${stack.publicUrl()}/notes`)).headers.get('x-app-version')).toBe('1.0.0');
    expect(await stack.databaseNames()).toEqual([`${stack.environment}_app`]);
  }, 120_000);
});
