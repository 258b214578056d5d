import { connect } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll } from 'vitest';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { startRouter, type RunningRouter } from '../../src/platform/router/main.js';
import { createRouterClient, type RouterClient } from '../../src/platform/router/client.js';
import { randomBytes } from 'node:crypto';
import { distinctFreePort, sleep, startUpstream, type Upstream } from '../support/upstream.js';

export { distinctFreePort, sleep, startUpstream, type Upstream };

export interface TestEnvironment {
  config: LoadedConfig;
  configText: string;
  stateDir: string;
  ports: { admin: number; shop: { public: number; preview: number }; backoffice: { public: number; preview: number } };
  /** The router admin secret, and a process environment holding it as CUTOVER_ROUTER_TOKEN. */
  token: string;
  processEnv: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/** `router` adds fields to its router section ("trustForwardedHeaders: true"); `listenHost` is where the sites listen. */
export interface TestEnvironmentOptions {
  router?: string;
  listenHost?: string;
}

/** Environment "acme" with sites "shop" (zdd) and "backoffice" (maintenance-page), in a fresh state folder. */
export async function testEnvironment(options: TestEnvironmentOptions = {}): Promise<TestEnvironment> {
  const stateDir = await mkdtemp(join(tmpdir(), 'cutover-router-'));
  const ports = {
    admin: await distinctFreePort(),
    shop: { public: await distinctFreePort(), preview: await distinctFreePort() },
    backoffice: { public: await distinctFreePort(), preview: await distinctFreePort() },
  };
  const configText = `
stateDir: ${stateDir}
environments:
  acme:
    router: { adminPort: ${ports.admin}, listenHost: ${options.listenHost ?? '127.0.0.1'}${options.router ? `, ${options.router}` : ''} }
    sites:
      - { name: shop, role: zdd, publicPort: ${ports.shop.public}, previewPort: ${ports.shop.preview} }
      - { name: backoffice, role: maintenance-page, publicPort: ${ports.backoffice.public}, previewPort: ${ports.backoffice.preview} }
`;
  const config = parseConfig(configText, join(stateDir, 'cutover.yaml'));
  const token = randomBytes(32).toString('base64url');
  return {
    config,
    configText,
    stateDir,
    ports,
    token,
    processEnv: { CUTOVER_ROUTER_TOKEN: token },
    cleanup: () => rm(stateDir, { recursive: true, force: true }),
  };
}

export const quietLogger = () => pino({ level: 'silent' });

/** The router of host "local", where acme runs. */
export function startTestRouter(env: TestEnvironment, logger = quietLogger()): Promise<RunningRouter> {
  return startRouter({ config: env.config, host: 'local', logger, env: env.processEnv });
}

/** The worker's view of the router: acme on its admin API, with the secret. */
export function routerClient(adminUrl: string, env: TestEnvironment, environment = 'acme'): RouterClient {
  return createRouterClient({ url: adminUrl, environment, token: env.token, tokenEnv: 'CUTOVER_ROUTER_TOKEN' });
}

/** A router for the tests of a file (or describe block): started before them, stopped and its state folder removed after. */
export interface TestRouter {
  readonly env: TestEnvironment;
  readonly router: RunningRouter;
  /** The worker's view of the router: acme on its admin API, with the secret. */
  client(): RouterClient;
}

export function useTestRouter(options: TestEnvironmentOptions = {}): TestRouter {
  let env: TestEnvironment | undefined;
  let router: RunningRouter | undefined;
  beforeAll(async () => {
    env = await testEnvironment(options);
    router = await startTestRouter(env);
  });
  afterAll(async () => {
    await router?.close();
    await env?.cleanup();
  });
  const started = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the test router starts in beforeAll: use it in tests and hooks only');
    return value;
  };
  return {
    get env() {
      return started(env);
    },
    get router() {
      return started(router);
    },
    client: () => routerClient(started(router).adminUrl, started(env)),
  };
}

/** fetch with the router admin secret, for requests the client does not make (bad bodies). */
export function adminFetch(env: TestEnvironment, url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${env.token}` },
  });
}

export function slot(upstream: Upstream) {
  return { kind: 'slot' as const, slotId: upstream.name, port: upstream.port };
}

/**
 * Sends `parts` on a fresh connection (each its own write, `gapMs` apart) and resolves with everything received until
 * the other side closed it: framing and order as they were on the wire.
 */
export async function rawExchange(port: number, parts: string | string[], gapMs = 0): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (text: string) => (received += text));
  const closed = new Promise<void>((resolve, reject) => {
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  for (const part of typeof parts === 'string' ? [parts] : parts) {
    socket.write(part, 'latin1');
    if (gapMs > 0) await sleep(gapMs);
  }
  await closed;
  return received;
}
