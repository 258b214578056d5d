/** The `dataPlane` section of an environment: the built-in router by default, HAProxy or nginx with their files. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { configProblems } from './problems.js';
import { siteUrls } from '../../src/config/addresses.js';
import { writeDataPlaneConfig } from '../../src/platform/data-plane/write-config.js';
import { siteFile } from '../../src/platform/data-plane/nginx/config.js';

const withDataPlane = (dataPlane: string | null) => `
environments:
  prod:
    router: { adminPort: 7400 }
    sites:
      - { name: web, role: zdd, publicPort: 8080, previewPort: 8081 }
${dataPlane === null ? '' : `    dataPlane: ${dataPlane}`}
`;

const dirs: string[] = [];
afterAll(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe('data plane configuration', () => {
  test('the built-in router by default; HAProxy and nginx with their defaults', () => {
    expect(parseConfig(withDataPlane(null), '/etc/cutover.yaml').environments.prod!.dataPlane).toEqual({ adapter: 'builtin' });
    const haproxy = parseConfig(withDataPlane('{ adapter: haproxy, dir: /var/lib/cutover/haproxy }'), '/etc/cutover.yaml');
    expect(haproxy.environments.prod!.dataPlane).toEqual({
      adapter: 'haproxy',
      dir: '/var/lib/cutover/haproxy',
      serverSlots: 8,
      threads: 1,
      maxconn: 4096,
      binary: '/usr/sbin/haproxy',
    });
    const nginx = parseConfig(withDataPlane('{ adapter: nginx, dir: /srv/nginx, clientKeepAliveSeconds: 0 }'), '/etc/cutover.yaml');
    expect(nginx.environments.prod!.dataPlane).toMatchObject({ adapter: 'nginx', clientKeepAliveSeconds: 0, reloadTimeout: '10s' });
  });

  test('errors name the field', () => {
    expect(configProblems(withDataPlane('{ adapter: traefik }'))).toEqual([
      'environments.prod.dataPlane.adapter: must be one of builtin, haproxy, nginx, got string "traefik"',
    ]);
    expect(configProblems(withDataPlane('{ dir: /x }'))).toEqual([
      'environments.prod.dataPlane.adapter: is required (builtin, haproxy, nginx)',
    ]);
    expect(configProblems(withDataPlane('{ adapter: haproxy }'))).toEqual(['environments.prod.dataPlane.dir: is required']);
    expect(configProblems(withDataPlane('{ adapter: haproxy, dir: haproxy, serverSlots: 1 }'))).toEqual([
      'environments.prod.dataPlane.dir: must be an absolute path of letters, digits, "_", ".", "-" and "/"',
      'environments.prod.dataPlane.serverSlots: must be between 2 and 256',
    ]);
    expect(configProblems(withDataPlane('{ adapter: nginx, dir: /x, socket: /x/s }'))).toEqual([
      'environments.prod.dataPlane: unknown field(s) socket',
    ]);
    expect(configProblems(withDataPlane('{ adapter: builtin, dir: /x }'))).toEqual(['environments.prod.dataPlane: unknown field(s) dir']);
  });

  test.each(['haproxy', 'nginx'] as const)(
    'the generated %s config listens where the printed addresses point, and the proxy accepts it',
    async (adapter) => {
      const dir = mkdtempSync(join(tmpdir(), `cutover-${adapter}-config-`));
      dirs.push(dir);
      const config = parseConfig(withDataPlane(`{ adapter: ${adapter}, dir: ${dir} }`), '/etc/cutover.yaml');
      const written = await writeDataPlaneConfig(config, 'prod');
      const env = config.environments.prod!;
      expect(siteUrls(env, env.sites[0]!)).toEqual({ publicUrl: 'http://127.0.0.1:8080/', previewUrl: 'http://127.0.0.1:8081/' });
      if (adapter === 'haproxy') {
        const cfg = readFileSync(written.config, 'utf8');
        expect(cfg).toContain('bind 127.0.0.1:8080');
        expect(cfg).toContain('bind 127.0.0.1:8081');
        execFileSync('/usr/sbin/haproxy', ['-c', '-q', '-f', written.config]);
      } else {
        const site = readFileSync(siteFile(dir, 'web'), 'utf8');
        expect(site).toContain('listen 127.0.0.1:8080;');
        expect(site).toContain('listen 127.0.0.1:8081;');
        execFileSync('/usr/sbin/nginx', ['-t', '-q', '-p', dir, '-c', written.config]);
      }
    },
  );

  test('the built-in router needs no generated config', async () => {
    const config = parseConfig(withDataPlane(null), '/etc/cutover.yaml');
    await expect(writeDataPlaneConfig(config, 'prod')).rejects.toThrow('dataPlane.adapter is builtin');
  });
});
