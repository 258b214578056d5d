import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { createBuiltinDataPlane } from '../../src/platform/data-plane/builtin.js';
import { DataPlaneUnavailableError } from '../../src/platform/data-plane/errors.js';
import { createRouterClient, RouterClientError } from '../../src/platform/router/client.js';
import { startRouter, type RunningRouter } from '../../src/platform/router/main.js';
import { distinctFreePort, quietLogger, startUpstream, type Upstream } from './support.js';

// One router for host "local": environments acme and beta, each with its own secret and route file; gamma runs elsewhere.
let stateDir: string;
let ports: { admin: number; acme: number[]; beta: number[]; gamma: number[] };
const tokens = { acme: randomBytes(32).toString('hex'), beta: randomBytes(32).toString('hex') };
const processEnv = { ACME_ROUTER_TOKEN: tokens.acme, BETA_ROUTER_TOKEN: tokens.beta };
let router: RunningRouter | undefined;
let a: Upstream;
let b: Upstream;

const environment = (name: string, sitePorts: number[], extra = '') => `
  ${name}:
    ${extra}
    router: { adminPort: ${ports.admin}, adminTokenEnv: ${name.toUpperCase()}_ROUTER_TOKEN }
    sites: [{ name: web, role: zdd, publicPort: ${sitePorts[0]}, previewPort: ${sitePorts[1]} }]`;

/** gamma runs on host "elsewhere", whose router has an admin port of its own. */
const gamma = () =>
  environment('gamma', ports.gamma, 'host: elsewhere').replace(`adminPort: ${ports.admin}`, `adminPort: ${ports.gamma[2]}`);

/** The config with acme, then whichever of beta and gamma are named. */
function config(...more: Array<'beta' | 'gamma'>) {
  const text = [
    `stateDir: ${stateDir}`,
    'environments:',
    environment('acme', ports.acme),
    ...(more.includes('beta') ? [environment('beta', ports.beta)] : []),
    ...(more.includes('gamma') ? [gamma()] : []),
  ].join('\n');
  return parseConfig(text, join(stateDir, 'cutover.yaml'));
}

const client = (name: string, token = tokens[name as keyof typeof tokens]) =>
  createRouterClient({ url: `http://127.0.0.1:${ports.admin}`, environment: name, token, tokenEnv: `${name.toUpperCase()}_ROUTER_TOKEN` });
const through = async (port: number) => (await fetch(`http://127.0.0.1:${port}/`)).text();

beforeAll(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cutover-router-host-'));
  const three = async () => [await distinctFreePort(), await distinctFreePort(), await distinctFreePort()];
  ports = { admin: await distinctFreePort(), acme: await three(), beta: await three(), gamma: await three() };
  [a, b] = await Promise.all([startUpstream('slot-a'), startUpstream('slot-b')]);
});

afterAll(async () => {
  await router?.close();
  await Promise.all([a?.close(), b?.close()]);
  await rm(stateDir, { recursive: true, force: true });
});

describe('one router per host', () => {
  test('serves the listeners of every environment of its host, with routes in one file per environment', async () => {
    router = await startRouter({ config: config('beta', 'gamma'), host: 'local', logger: quietLogger(), env: processEnv });
    expect(Object.keys(router.environments)).toEqual(['acme', 'beta']);
    expect(await client('acme').health()).toEqual({ ok: true, host: 'local', environments: ['acme', 'beta'] });
    await client('acme').setLive('web', { kind: 'slot', slotId: 'a', port: a.port });
    await client('beta').setLive('web', { kind: 'slot', slotId: 'b', port: b.port });
    expect(await through(ports.acme[0]!)).toBe('slot-a');
    expect(await through(ports.beta[0]!)).toBe('slot-b');
    expect((await client('acme').getRoutes()).sites.web!.live).toMatchObject({ slotId: 'a' });
    expect((await client('beta').getRoutes()).sites.web!.live).toMatchObject({ slotId: 'b' });
    expect((await readdir(join(stateDir, 'router'))).sort()).toEqual(['acme.json', 'beta.json']);
    // gamma runs on another host: this router has no listener of it.
    await expect(fetch(`http://127.0.0.1:${ports.gamma[0]}/`)).rejects.toThrow();
  });

  test("an environment's secret switches that environment only; another host's environment is unknown here", async () => {
    const betaWithAcmeSecret = client('beta', tokens.acme);
    const refused = await betaWithAcmeSecret.setLive('web', { kind: 'slot', slotId: 'a', port: a.port }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(RouterClientError);
    expect((refused as RouterClientError).status).toBe(401);
    expect((refused as Error).message).toBe('Authorization: the router admin token of environment beta is wrong');
    expect(await through(ports.beta[0]!)).toBe('slot-b');
    const gamma = await client('gamma', tokens.acme)
      .getRoutes()
      .catch((e: unknown) => e);
    expect((gamma as RouterClientError).status).toBe(404);
    expect((gamma as Error).message).toBe('unknown environment "gamma": the router of host local serves acme, beta');
    // Its data plane is unavailable (restart the router to serve it), not one whose sites are missing.
    const url = `http://127.0.0.1:${ports.admin}`;
    const gammaPlane = createBuiltinDataPlane({ url, environment: 'gamma', token: tokens.acme, tokenEnv: 'GAMMA_ROUTER_TOKEN' });
    await expect(gammaPlane.setLive('web', { kind: 'slot', slotId: 'a', replicas: [{ host: '127.0.0.1', port: a.port }] })).rejects.toThrow(
      DataPlaneUnavailableError,
    );
    const unserved = 'built-in router: unknown environment "gamma": the router of host local serves acme, beta';
    await expect(gammaPlane.routes()).rejects.toThrow(unserved);
    // Without a secret of any environment it serves, not even that is told.
    const stranger = await client('gamma', 'z'.repeat(40))
      .getRoutes()
      .catch((e: unknown) => e);
    expect((stranger as RouterClientError).status).toBe(401);
  });

  test('an environment added to the config is served once the router restarts; the others keep their routes', async () => {
    await router!.close();
    router = await startRouter({ config: config(), host: 'local', logger: quietLogger(), env: processEnv });
    expect(Object.keys(router.environments)).toEqual(['acme']);
    expect(await through(ports.acme[0]!)).toBe('slot-a');
    await expect(fetch(`http://127.0.0.1:${ports.beta[0]}/`)).rejects.toThrow();
    await router.close();
    router = await startRouter({ config: config('beta'), host: 'local', logger: quietLogger(), env: processEnv });
    expect(await client('acme').health()).toEqual({ ok: true, host: 'local', environments: ['acme', 'beta'] });
    expect(await through(ports.acme[0]!)).toBe('slot-a');
    expect(await through(ports.beta[0]!)).toBe('slot-b');
  });

  test('each environment needs its own secret in the process: the router does not start without it, naming the variable', async () => {
    await router!.close();
    router = undefined;
    const onlyAcme = { ACME_ROUTER_TOKEN: tokens.acme };
    await expect(startRouter({ config: config('beta'), host: 'local', logger: quietLogger(), env: onlyAcme })).rejects.toThrow(
      'the environment variable BETA_ROUTER_TOKEN is not set',
    );
    await expect(startRouter({ config: config('beta'), host: 'nowhere', logger: quietLogger(), env: processEnv })).rejects.toThrow(
      'no environment of the config runs on host "nowhere"; its hosts are: local',
    );
    // Nothing was left listening.
    await expect(fetch(`http://127.0.0.1:${ports.acme[0]}/`)).rejects.toThrow();
  });
});
