/** An environment behind HAProxy or nginx (dataPlane) is not the built-in router's: its listeners stay free for the proxy. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { startRouter } from '../../src/platform/router/main.js';
import { distinctFreePort, quietLogger } from './support.js';

let stateDir: string;
const token = randomBytes(32).toString('hex');

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cutover-router-choice-'));
});
afterAll(() => rm(stateDir, { recursive: true, force: true }));

async function configWith(proxied: 'haproxy' | 'nginx', withBuiltin: boolean) {
  const [admin, a1, a2, b1, b2] = await Promise.all(Array.from({ length: 5 }, () => distinctFreePort()));
  const env = (name: string, ports: number[], dataPlane: string) => `
  ${name}:
    dataPlane: ${dataPlane}
    router: { adminPort: ${admin} }
    sites: [{ name: web, role: zdd, publicPort: ${ports[0]}, previewPort: ${ports[1]} }]`;
  const text = [
    `stateDir: ${stateDir}`,
    'environments:',
    ...(withBuiltin ? [env('acme', [a1!, a2!], '{ adapter: builtin }')] : []),
    env('proxied', [b1!, b2!], `{ adapter: ${proxied}, dir: ${stateDir}/${proxied} }`),
  ].join('\n');
  return { config: parseConfig(text, join(stateDir, 'cutover.yaml')), proxiedPorts: [b1!, b2!] };
}

const free = (port: number) =>
  new Promise<boolean>((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });

test.each(['haproxy', 'nginx'] as const)(
  'the router serves only the built-in environments of its host, not one behind %s',
  async (proxied) => {
    const { config, proxiedPorts } = await configWith(proxied, true);
    const router = await startRouter({ config, host: 'local', logger: quietLogger(), env: { CUTOVER_ROUTER_TOKEN: token } });
    try {
      expect(Object.keys(router.environments)).toEqual(['acme']);
      for (const port of proxiedPorts) expect(await free(port)).toBe(true);
    } finally {
      await router.close();
    }
  },
);

test('a host whose environments all run behind a proxy needs no router, and says so', async () => {
  const { config } = await configWith('haproxy', false);
  await expect(startRouter({ config, host: 'local', logger: quietLogger(), env: { CUTOVER_ROUTER_TOKEN: token } })).rejects.toThrow(
    'every environment of host "local" runs behind HAProxy or nginx (dataPlane): no router needed',
  );
});
