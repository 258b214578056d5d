/** Several hosts in cutover.yaml: declared once with an IP address, named by environments, allowed by their router. */
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configProblems } from './problems.js';
import { runsSlotsOn, slotHostsOf } from '../../src/config/addresses.js';

const config = (hosts: string, envHosts: string, slotHosts = '[10.0.0.11, 10.0.0.12]') => `
hosts:
${hosts}
environments:
  prod:
    hosts: ${envHosts}
    router: { adminPort: 7400, slotHosts: ${slotHosts} }
    sites:
      - { name: web, role: zdd, publicPort: 8080, previewPort: 8081 }
`;
const twoHosts = '  app1: { address: 10.0.0.11 }\n  app2: { address: 10.0.0.12 }';

describe('hosts', () => {
  test("an environment's slots run on its declared hosts, at their addresses; without hosts, on its one host on loopback", () => {
    const parsed = parseConfig(config(twoHosts, '[app1, app2]'), '/etc/cutover.yaml');
    expect(slotHostsOf(parsed, parsed.environments.prod!)).toEqual([
      { name: 'app1', address: '10.0.0.11' },
      { name: 'app2', address: '10.0.0.12' },
    ]);
    expect(runsSlotsOn(parsed, parsed.environments.prod!, 'app2')).toBe(true);
    expect(runsSlotsOn(parsed, parsed.environments.prod!, 'local')).toBe(false);
    expect(slotHostsOf(parsed, { host: 'local', hosts: undefined })).toEqual([{ name: 'local', address: '127.0.0.1' }]);
  });

  test('an unknown host, a host named twice, and an address the router does not allow are refused, each named', () => {
    expect(configProblems(config(twoHosts, '[app1, app9, app1]', '[10.0.0.11]'))).toEqual([
      'environments.prod.hosts[1]: unknown host "app9"; declared under hosts: app1, app2',
      'environments.prod.hosts[2]: duplicate host "app1"',
    ]);
    expect(configProblems(config(twoHosts, '[app1, app2]', '[10.0.0.11]'))).toEqual([
      'environments.prod.hosts[1]: host "app2" has address 10.0.0.12, which router.slotHosts does not allow: add it there',
    ]);
  });

  test('a host address must be an IP address: a switch never waits on name resolution', () => {
    expect(configProblems(config('  app1: { address: app1.internal }', '[app1]'))).toEqual([
      'hosts.app1.address: must be an IP address (IPv4 or IPv6), without a port',
    ]);
    expect(configProblems(config('  app1: {}', '[app1]'))).toEqual(['hosts.app1.address: is required']);
  });
});
