import { describe, expect, test } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { configProblems } from '../config/problems.js';

const withRouter = (router: string) => `
environments:
  prod:
    router: ${router}
    sites: [{ name: web, role: zdd, publicPort: 8080, previewPort: 8081 }]
`;

const problems = (router: string) => configProblems(withRouter(router));

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
    expect(problems('{ adminPort: 7400, slotHosts: ["http://evil/"] }')).toEqual([
      'environments.prod.router.slotHosts[0]: must be a hostname or IP address',
    ]);
    expect(problems('{ adminPort: 7400, limits: { headersTimeout: 0s, maxConnections: 0, slotTimeout: soon } }')).toEqual([
      'environments.prod.router.limits.headersTimeout: must be more than zero',
      'environments.prod.router.limits.maxConnections: must be at least 1',
      'environments.prod.router.limits.slotTimeout: must be a duration like "30s", "10m" or "24h"',
    ]);
    expect(problems('{ adminPort: 7400, limits: { headersTimeout: 2m, requestTimeout: 1m } }')).toEqual([
      'environments.prod.router.limits.headersTimeout: must not be longer than requestTimeout',
    ]);
    expect(problems('{ adminPort: 7400, limits: { idleTimeout: 1s } }')).toEqual([
      'environments.prod.router.limits: unknown field(s) idleTimeout',
    ]);
  });
});

describe('one router per host', () => {
  const twoEnvironments = (staging: string, prod: string, prodHost = 'local') => `
environments:
  staging:
    router: ${staging}
    sites: [{ name: web, role: zdd, publicPort: 8080, previewPort: 8081 }]
  prod:
    host: ${prodHost}
    router: ${prod}
    sites: [{ name: web, role: zdd, publicPort: 8090, previewPort: 8091 }]
`;
  const problemsOf = (text: string): string[] => {
    try {
      parseConfig(text, '/etc/cutover.yaml');
      return [];
    } catch (error) {
      return (error as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  test('the environments of one host share its router: the same admin address, each with its own secret and listeners', () => {
    const text = twoEnvironments('{ adminPort: 7400 }', '{ adminPort: 7400, adminTokenEnv: PROD_ROUTER_TOKEN }');
    const config = parseConfig(text, '/etc/cutover.yaml');
    expect(config.environments.prod!.router).toMatchObject({ adminPort: 7400, adminTokenEnv: 'PROD_ROUTER_TOKEN' });
    expect(config.environments.staging!.router).toMatchObject({ adminPort: 7400, adminTokenEnv: 'CUTOVER_ROUTER_TOKEN' });
  });

  test('another admin address for an environment on the same host is refused, naming the one its host has', () => {
    const why = 'as for environment staging: the environments of host local share one router, with one admin address';
    expect(problemsOf(twoEnvironments('{ adminPort: 7400 }', '{ adminPort: 7401, adminHost: 127.0.0.2 }'))).toEqual([
      `environments.prod.router.adminPort: must be 7400 ${why}`,
      `environments.prod.router.adminHost: must be "127.0.0.1" ${why}`,
    ]);
  });

  test('routers of different hosts have their own admin ports, which no listener may take', () => {
    expect(problemsOf(twoEnvironments('{ adminPort: 7400 }', '{ adminPort: 7401 }', 'web2'))).toEqual([]);
    expect(problemsOf(twoEnvironments('{ adminPort: 7400 }', '{ adminPort: 7400 }', 'web2'))).toEqual([
      'environments.prod.router.adminPort: port 7400 is already used by environments.staging.router.adminPort',
    ]);
    expect(problemsOf(twoEnvironments('{ adminPort: 8090 }', '{ adminPort: 8090 }'))).toEqual([
      'environments.prod.sites[0].publicPort: port 8090 is already used by environments.staging.router.adminPort',
    ]);
  });
});
