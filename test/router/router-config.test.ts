import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';

const withRouter = (router: string) => `
environments:
  prod:
    router: ${router}
    sites: [{ name: web, role: zdd, publicPort: 8080, previewPort: 8081 }]
`;

function problems(router: string): string[] {
  try {
    parseConfig(withRouter(router), '/etc/cutover.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error('the config was accepted');
}

describe('the router section of the config', () => {
  test('defaults: admin API on loopback with its secret from CUTOVER_ROUTER_TOKEN, forwarded headers not trusted, limits set', () => {
    expect(parseConfig(withRouter('{ adminPort: 7400 }'), '/etc/cutover.yaml').environments.prod!.router).toEqual({
      adminPort: 7400,
      adminHost: '127.0.0.1',
      listenHost: '127.0.0.1',
      adminTokenEnv: 'CUTOVER_ROUTER_TOKEN',
      slotHosts: ['127.0.0.1', '::1', 'localhost'],
      trustForwardedHeaders: false,
      limits: { headersTimeout: '10s', requestTimeout: '5m', keepAliveTimeout: '5s', maxConnections: 10_000, slotTimeout: '60s' },
    });
  });

  test('each bad value is named with what it must be', () => {
    expect(problems('{ adminPort: 7400, adminTokenEnv: "s3cr3t value", slotHosts: [], trustForwardedHeaders: yes }')).toEqual([
      'environments.prod.router.adminTokenEnv: must be an environment variable name (A-Z, 0-9, _)',
      'environments.prod.router.slotHosts: must name at least one host',
      'environments.prod.router.trustForwardedHeaders: must be true or false, got string "yes"',
    ]);
    expect(problems('{ adminPort: 7400, slotHosts: ["http://evil/"] }')).toEqual(['environments.prod.router.slotHosts[0]: must be a hostname or IP address']);
    expect(problems('{ adminPort: 7400, limits: { headersTimeout: 0s, maxConnections: 0, slotTimeout: soon } }')).toEqual([
      'environments.prod.router.limits.headersTimeout: must be more than zero',
      'environments.prod.router.limits.maxConnections: must be at least 1',
      'environments.prod.router.limits.slotTimeout: must be a duration like "30s", "10m" or "24h"',
    ]);
    expect(problems('{ adminPort: 7400, limits: { headersTimeout: 2m, requestTimeout: 1m } }')).toEqual([
      'environments.prod.router.limits.headersTimeout: must not be longer than requestTimeout',
    ]);
    expect(problems('{ adminPort: 7400, limits: { idleTimeout: 1s } }')).toEqual(['environments.prod.router.limits: unknown field(s) idleTimeout']);
  });
});
