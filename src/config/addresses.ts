/** How Cutover's processes and its operators reach an address a listener binds: one rule for every URL Cutover prints. */
import type { EnvironmentConfig, SiteConfig } from './schema.js';

/** A wildcard bind is reached on loopback; an IPv6 address goes in brackets. */
export function reachableHost(bindHost: string): string {
  const host = bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost === '::' ? '::1' : bindHost;
  return host.includes(':') ? `[${host}]` : host;
}

export function httpUrl(bindHost: string, port: number): string {
  return `http://${reachableHost(bindHost)}:${port}/`;
}

/** A site's public and preview addresses, through its environment's router. */
export function siteUrls(
  env: EnvironmentConfig,
  site: Pick<SiteConfig, 'publicPort' | 'previewPort'>,
): { publicUrl: string; previewUrl: string } {
  return { publicUrl: httpUrl(env.router.listenHost, site.publicPort), previewUrl: httpUrl(env.router.listenHost, site.previewPort) };
}
