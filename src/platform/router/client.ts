import type { LiveSwitch, PreviewSwitch } from './switchboard.js';
import type { RoutesView } from './admin.js';
import type { RouteInput, SlotRouteInput } from './routes.js';

export type { LiveSwitch, PreviewSwitch, RoutesView };

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

export interface RouterClient {
  health(): Promise<{ ok: true; environment: string }>;
  getRoutes(): Promise<RoutesView>;
  /** Resolves once the previous live target drained (or drainTimeoutMs passed: then `drained` is false). */
  setLive(site: string, route: RouteInput, opts?: { drainTimeoutMs?: number; signal?: AbortSignal }): Promise<LiveSwitch>;
  setPreview(site: string, route: SlotRouteInput | null): Promise<PreviewSwitch>;
}

/** Talks to one router's admin API, e.g. createRouterClient('http://127.0.0.1:7400'). */
export function createRouterClient(baseUrl: string): RouterClient {
  const base = baseUrl.replace(/\/+$/, '');

  async function call<T>(method: 'GET' | 'PUT', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? { accept: 'application/json' } : { accept: 'application/json', 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal,
      });
    } catch (error) {
      const code = (error as { cause?: { code?: string } }).cause?.code;
      throw new RouterClientError(`router at ${base} is unreachable (${code ?? (error as Error).message}) for ${method} ${path}`, 0, { cause: error });
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
      throw new RouterClientError(typeof reason === 'string' ? reason : `router answered ${method} ${path} with HTTP ${response.status}: ${text.slice(0, 200)}`, response.status);
    }
    return json as T;
  }

  const sitePath = (site: string, channel: string) => `/v1/sites/${encodeURIComponent(site)}/${channel}`;

  return {
    health: () => call('GET', '/healthz'),
    getRoutes: () => call('GET', '/v1/routes'),
    setLive: (site, route, opts = {}) =>
      call('PUT', `${sitePath(site, 'live')}${opts.drainTimeoutMs === undefined ? '' : `?drainTimeoutMs=${opts.drainTimeoutMs}`}`, route, opts.signal),
    setPreview: (site, route) => call('PUT', sitePath(site, 'preview'), route),
  };
}
