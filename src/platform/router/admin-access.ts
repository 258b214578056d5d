import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';

/** Who may use the router's admin API: requests to its own address, carrying the secret only Cutover's processes hold. */
export interface AdminAccess {
  /** Host header values naming the admin address ("127.0.0.1:7400"), lowercase. */
  hosts: ReadonlySet<string>;
  /** Per environment the router serves: its secret, and where its slot routes may point. */
  environments: ReadonlyMap<string, EnvironmentAccess>;
  /** Who may read the request counts (/metrics); absent: the admin secrets only. */
  metrics?: MetricsAccess;
}

/**
 * Who may read /metrics and /metrics/traffic (counts by environment, site and slot: no route, address or secret). On a
 * loopback admin address anyone who reaches it, as only this host's processes do (Prometheus there needs no secret);
 * elsewhere a bearer secret: the read-only metrics secret, or an admin one.
 */
export interface MetricsAccess {
  /** The admin API listens on loopback only. */
  loopback: boolean;
  /** From CUTOVER_ROUTER_METRICS_TOKEN: reads the metrics, changes nothing; never logged. */
  token?: string;
}

/** The variable holding the read-only secret of /metrics: what Prometheus gets instead of an admin secret. */
export const metricsTokenEnv = 'CUTOVER_ROUTER_METRICS_TOKEN';

export interface EnvironmentAccess {
  /** The bearer secret (from the variable the environment's `router.adminTokenEnv` names); never logged, never in an answer. */
  token: string;
  /** Where slot routes may point (the environment's `router.slotHosts`), lowercase. */
  slotHosts: ReadonlySet<string>;
}

/** Shorter secrets can be guessed; 32 characters is what `openssl rand -hex 16` prints. */
export const minAdminTokenLength = 32;

export class AdminTokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdminTokenError';
  }
}

/** The admin secret from the process environment: the router does not start without one. */
export function adminTokenFrom(env: NodeJS.ProcessEnv, name: string): string {
  const token = env[name];
  if (!token) {
    throw new AdminTokenError(
      `the environment variable ${name} is not set: the router admin API needs a secret (at least ${minAdminTokenLength} characters, ` +
        'e.g. from "openssl rand -hex 32") known to the router, the worker and the API only; `npm start` makes one when it is unset',
    );
  }
  if (token.length < minAdminTokenLength) {
    throw new AdminTokenError(
      `the environment variable ${name} is too short: the router admin secret must be at least ${minAdminTokenLength} characters`,
    );
  }
  return token;
}

/** The read-only metrics secret, when set; as long as an admin secret must be. */
export function metricsTokenFrom(env: NodeJS.ProcessEnv): string | undefined {
  const token = env[metricsTokenEnv];
  if (!token) return undefined;
  if (token.length < minAdminTokenLength) {
    throw new AdminTokenError(
      `the environment variable ${metricsTokenEnv} is too short: the router metrics secret must be at least ${minAdminTokenLength} characters`,
    );
  }
  return token;
}

/** 127.0.0.0/8, ::1 and localhost: addresses only this host reaches. */
export function isLoopbackAddress(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  return bare === 'localhost' || bare === '::1' || /^127(\.\d{1,3}){3}$/.test(bare);
}

/** Compares digests of equal length, so the time taken says nothing about how much of the secret was right. */
export function tokenMatches(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The Host header values that name `host:port`: the address itself, and `localhost` when it is a loopback one. */
export function adminHostNames(host: string, port: number): Set<string> {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  const names = new Set([`${bare.includes(':') ? `[${bare}]` : bare}:${port}`]);
  if (bare === '0.0.0.0' || bare === '::') names.add(`127.0.0.1:${port}`).add(`[::1]:${port}`).add(`localhost:${port}`);
  if (bare === 'localhost' || bare === '::1' || bare.startsWith('127.')) names.add(`localhost:${port}`);
  return names;
}

/** Refuses a request whose Host is not the admin address: a web page rebinding its own name to loopback would otherwise reach it. */
export function hostGuard(hosts: ReadonlySet<string>): MiddlewareHandler {
  return async (c, next) => {
    const host = (c.req.header('host') ?? '').toLowerCase();
    if (hosts.has(host)) return next();
    return c.json({ error: `Host: ${JSON.stringify(host)} is not this router's admin address (${[...hosts].join(', ')})` }, 421);
  };
}

/** The environment an admin path is about: /v1/environments/<name>/... */
export function environmentOfPath(path: string): string | undefined {
  const match = /^\/v1\/environments\/([^/]+)/.exec(path);
  if (!match) return undefined;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return match[1];
  }
}

/**
 * Refuses a request without the secret; nothing else runs for it. A path about one environment takes that
 * environment's secret only; any other path (none changes anything) the secret of any environment served.
 */
export function tokenGuard(environments: ReadonlyMap<string, EnvironmentAccess>): MiddlewareHandler {
  return async (c, next) => {
    const match = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '');
    const named = environmentOfPath(c.req.path);
    const own = named === undefined ? undefined : environments.get(named);
    const accepted = own ? [own] : [...environments.values()];
    if (!match || !accepted.some((access) => tokenMatches(match[1]!, access.token))) {
      c.header('WWW-Authenticate', 'Bearer realm="cutover-router"');
      const wrong = own ? `the router admin token of environment ${named} is wrong` : 'the router admin token is wrong';
      const problem = match ? wrong : 'a "Bearer <router admin token>" header is required';
      return c.json({ error: `Authorization: ${problem}` }, 401);
    }
    await next();
  };
}

/** Lets a request read the metrics: on a loopback admin address always; elsewhere with the metrics secret or an admin secret. */
export function metricsGuard(access: AdminAccess): MiddlewareHandler {
  const admin = tokenGuard(access.environments);
  const { loopback = false, token } = access.metrics ?? {};
  return async (c, next) => {
    if (loopback) return next();
    const match = /^Bearer +(\S+) *$/i.exec(c.req.header('authorization') ?? '');
    if (match && token !== undefined && tokenMatches(match[1]!, token)) return next();
    return admin(c, next);
  };
}
