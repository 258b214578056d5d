/** How Cutover's processes and its operators reach an address a listener binds: one rule for every URL Cutover prints. */
import type { CutoverConfig, EnvironmentConfig, SiteConfig } from './schema.js';

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

/** A host an environment's slots run on, and where the data plane reaches them. */
export interface SlotHost {
  name: string;
  address: string;
}

/** The hosts an environment's slots run on: its declared hosts, else its one host on loopback. */
export function slotHostsOf(config: Pick<CutoverConfig, 'hosts'>, env: Pick<EnvironmentConfig, 'host' | 'hosts'>): SlotHost[] {
  if (!env.hosts) return [{ name: env.host, address: '127.0.0.1' }];
  return env.hosts.map((name) => ({ name, address: config.hosts[name]?.address ?? '127.0.0.1' }));
}

/** Where a host agent's slots listen: the host's declared address, else loopback. */
export function slotAddressOf(config: Pick<CutoverConfig, 'hosts'>, host: string): string {
  return config.hosts[host]?.address ?? '127.0.0.1';
}

/** Whether the environment's slots run on this host (its agent serves it). */
export function runsSlotsOn(config: Pick<CutoverConfig, 'hosts'>, env: Pick<EnvironmentConfig, 'host' | 'hosts'>, host: string): boolean {
  return slotHostsOf(config, env).some((h) => h.name === host);
}
