/**
 * Who can reach the API: it listens beyond loopback only with tokens, and answers only requests addressed to
 * one of its own names, so a web page whose DNS name was rebound to 127.0.0.1 cannot drive it from a browser.
 */
import { createMiddleware } from 'hono/factory';
import { ConfigError, type LoadedConfig } from '../config/load.js';
import { ApiError } from './errors.js';

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Brackets around IPv6 addresses, lower case: one spelling per name. */
const normalized = (host: string) => {
  const lower = host.toLowerCase();
  return lower.includes(':') && !lower.startsWith('[') ? `[${lower}]` : lower;
};

export function isLoopbackHost(host: string): boolean {
  const name = normalized(host);
  return name === 'localhost' || name === '[::1]' || /^127(\.\d{1,3}){3}$/.test(name);
}

/** Refuses to listen beyond loopback without an auth section: whoever reached an open API could deploy. */
export function assertSafeListenAddress(config: LoadedConfig): void {
  if (config.auth || isLoopbackHost(config.api.host)) return;
  throw new ConfigError(config.file, [
    {
      path: 'api.host',
      message:
        `is ${config.api.host}, not a loopback address, and there is no auth section: anyone who reaches the API could deploy; ` +
        'add auth.tokens (docs/api.md, "Tokens") or set api.host to 127.0.0.1',
    },
  ]);
}

/** Middleware: 421 unless the Host header names loopback, api.host (unless a wildcard) or one of api.allowedHosts. */
export function checkHost(config: LoadedConfig) {
  const allowed = new Set([...config.api.allowedHosts, ...(WILDCARDS.has(config.api.host) ? [] : [config.api.host])].map(normalized));
  return createMiddleware(async (c, next) => {
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    let name: string | null;
    try {
      name = new URL(`http://${host}`).hostname;
    } catch {
      name = null;
    }
    if (!name || !(isLoopbackHost(name) || allowed.has(normalized(name)))) {
      // The header itself is not repeated: it is whatever the caller chose to send.
      const message = 'the Host header names a host this API does not answer to; if it is one of its names, add it to api.allowedHosts';
      throw new ApiError(421, 'host-not-allowed', message);
    }
    await next();
  });
}
