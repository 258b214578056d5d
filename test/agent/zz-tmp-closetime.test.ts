import { expect, inject, test } from 'vitest';
import { forwardToLoopback } from '../support/forward.js';
import { createHosts } from '../support/netns.js';
import { startTestStack } from '../support/stack.js';

test(`close time bridge address`, async () => {
  const hosts = await createHosts(1);
  const f = await forwardToLoopback(hosts.rootAddress, Number(inject('temporalAddress').split(':').pop()));
  const stack = await startTestStack({ agentProcess: true, temporalAddress: `${hosts.rootAddress}:${f.port}` });
  const id = await stack.deploy('examples/demo-app/v1');
  await stack.waitForPhase(id, ['awaiting-verification']);
  const t0 = Date.now();
  await stack.close();
  console.error('CLOSE', Date.now() - t0);
  await f?.close();
  await hosts.close();
  expect(1).toBe(1);
}, 180_000);
