import type { CanarySwitch, LiveHold, LiveSwitch, PreviewSwitch } from './switchboard.js';
import type { RouterHealth, RoutesView } from './admin.js';
import type { CanaryInput, HoldInput, ReplicaWeight, RouteInput, SlotRouteInput } from './routes.js';

export type { CanarySwitch, LiveHold, LiveSwitch, PreviewSwitch, RouterHealth, RoutesView };

/** The router refused or failed a request; `status` is its HTTP status (0 when it could not be reached). */
export class RouterClientError extends Error {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RouterClientError';
  }
}

/** One environment's routes, on the router of its host. */
export interface RouterClient {
  health(): Promise<RouterHealth>;
  getRoutes(): Promise<RoutesView>;
  /** Resolves once the previous live target drained (or drainTimeoutMs passed: then `drained` is false). */
  setLive(site: string, route: RouteInput, opts?: { drainTimeoutMs?: number; signal?: AbortSignal }): Promise<LiveSwitch>;
  /** Holds new public requests until the next setLive (or hold.timeoutMs: maintenance page); resolves once the live target drained. */
  hold(site: string, hold?: HoldInput, opts?: { drainTimeoutMs?: number }): Promise<LiveHold>;
  setPreview(site: string, route: SlotRouteInput | null): Promise<PreviewSwitch>;
  /** Shares of the live target's new requests for the replicas named; the others keep theirs. */
  setWeights(site: string, weights: ReplicaWeight[]): Promise<void>;
  /** Sets, changes or (null) removes the canary of the live target; resolves once a canary slot it left drained. */
  setCanary(site: string, canary: CanaryInput | null, opts?: { drainTimeoutMs?: number }): Promise<CanarySwitch>;
}

/** How to reach one environment on its host's router admin API. */
export interface RouterAccess {
  /** e.g. http://127.0.0.1:7400 */
  url: string;
  /** The environment whose routes the client reads and switches. */
  environment: string;
  /** The admin secret; undefined when its variable is unset in this process: every call then fails naming it. */
  token: string | undefined;
  /** The environment variable the secret comes from (router.adminTokenEnv). */
  tokenEnv: string;
}

/** Talks to one environment on its host's router admin API, sending the environment's admin secret with every request. */
export function createRouterClient(access: RouterAccess): RouterClient {
  const base = access.url.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'PUT', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    if (!access.token) {
      const problem = `${access.tokenEnv} (its admin secret) is not set in this process`;
      throw new RouterClientError(`cannot call the router at ${base}: ${problem}`, 401);
    }
    const headers: Record<string, string> = { accept: 'application/json', authorization: `Bearer ${access.token}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new RouterClientError(`router at ${base} is unreachable (${code ?? (error as Error).message}) for ${method} ${path}`, 0, {
        cause: error,
      });
    }
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!response.ok) {
      const reason = (json as { error?: unknown } | undefined)?.error;
      throw new RouterClientError(
        typeof reason === 'string' ? reason : `router answered ${method} ${path} with HTTP ${response.status}: ${text.slice(0, 200)}`,
        response.status,
      );
    }
    return json as T;
  }

  const environmentPath = `/v1/environments/${encodeURIComponent(access.environment)}`;
  const sitePath = (site: string, channel: string) => `${environmentPath}/sites/${encodeURIComponent(site)}/${channel}`;

  return {
    health: () => call('GET', '/healthz'),
    getRoutes: () => call('GET', `${environmentPath}/routes`),
    setLive: (site, route, opts = {}) =>
      call(
        'PUT',
        `${sitePath(site, 'live')}${opts.drainTimeoutMs === undefined ? '' : `?drainTimeoutMs=${opts.drainTimeoutMs}`}`,
        route,
        opts.signal,
      ),
    hold: (site, hold = {}, opts = {}) =>
      call('PUT', `${sitePath(site, 'hold')}${opts.drainTimeoutMs === undefined ? '' : `?drainTimeoutMs=${opts.drainTimeoutMs}`}`, hold),
    setPreview: (site, route) => call('PUT', sitePath(site, 'preview'), route),
    setWeights: async (site, weights) => void (await call('PUT', sitePath(site, 'weights'), weights)),
    setCanary: (site, canary, opts = {}) =>
      call(
        'PUT',
        `${sitePath(site, 'canary')}${opts.drainTimeoutMs === undefined ? '' : `?drainTimeoutMs=${opts.drainTimeoutMs}`}`,
        canary,
      ),
  };
}
