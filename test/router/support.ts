import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';
import { freePort } from '../../src/process/free-port.js';
import { parseConfig, type LoadedConfig } from '../../src/config/load.js';
import { startRouter, type RunningRouter } from '../../src/platform/router/main.js';
import { createRouterClient, type RouterClient } from '../../src/platform/router/client.js';
import { randomBytes } from 'node:crypto';

/** A slot stand-in: answers its own name, records when each request arrived. */
export interface Upstream {
  name: string;
  port: number;
  /** performance.now() at each request's arrival. */
  arrivals: number[];
  server: Server;
  close(): Promise<void>;
}

export async function startUpstream(
  name: string,
  handler?: (req: IncomingMessage, res: ServerResponse, upstream: Upstream) => void,
): Promise<Upstream> {
  const port = await distinctFreePort();
  const upstream: Upstream = {
    name,
    port,
    arrivals: [],
    server: createServer((req, res) => {
      upstream.arrivals.push(performance.now());
      if (handler) return handler(req, res, upstream);
      req.resume();
      req.on('end', () => res.end(name));
    }),
    close: () =>
      new Promise((resolve) => {
        upstream.server.closeAllConnections();
        upstream.server.close(() => resolve());
      }),
  };
  await new Promise<void>((resolve) => upstream.server.listen(port, '127.0.0.1', resolve));
  return upstream;
}

const handedOut = new Set<number>();
/** freePort, never the same one twice in a test file. */
export async function distinctFreePort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (!handedOut.has(port)) {
      handedOut.add(port);
      return port;
    }
  }
}

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

/**
 * Environment "acme" with sites "shop" (zdd) and "backoffice" (maintenance-page), in a fresh state folder;
 * `router` adds fields to its router section ("trustForwardedHeaders: true").
 */
export async function testEnvironment(options: { router?: string; listenHost?: string } = {}): Promise<TestEnvironment> {
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

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
