/** The `analysis` section of an environment: defaults, what the workflow gets, and errors that name the field. */
import { describe, expect, test } from 'vitest';
import { planFor } from '../../src/activities/environments.js';
import { parseConfig } from '../../src/config/load.js';
import { configProblems } from './problems.js';

const withAnalysis = (analysis: string) => `
environments:
  prod:
    router: { adminPort: 7400 }
    sites:
      - { name: web, role: zdd, publicPort: 8080, previewPort: 8081 }
    analysis:
${analysis}
`;

describe('analysis configuration', () => {
  test('checks and metrics load with their defaults; the plan has milliseconds', () => {
    const config = parseConfig(
      withAnalysis(`      checks:
        - { path: /notes, maxLatency: 800ms }
      metrics:
        - { name: error-rate, prometheus: "http://127.0.0.1:9090", query: "sum(rate(x[1m]))", max: 0.05 }`),
      '/etc/cutover.yaml',
    );
    expect(planFor(config, 'prod').analysis).toEqual({
      checks: [{ path: '/notes', expectStatus: 200, maxLatencyMs: 800, requests: 20, intervalMs: 500, failureLimit: 0 }],
      metrics: [
        {
          name: 'error-rate',
          prometheusUrl: 'http://127.0.0.1:9090',
          query: 'sum(rate(x[1m]))',
          max: 0.05,
          samples: 3,
          intervalMs: 10_000,
          failureLimit: 0,
        },
      ],
      rollbackDatabase: false,
    });
  });

  test('no analysis section: the plan has none', () => {
    const config = parseConfig(withAnalysis('').replace('    analysis:\n', ''), '/etc/cutover.yaml');
    expect(planFor(config, 'prod').analysis).toBeNull();
  });

  test('every mistake names its field', () => {
    expect(
      configProblems(
        withAnalysis(`      checks:
        - { path: notes, requests: 0, expectStatus: 2000, interval: soon }
      metrics:
        - { prometheus: "http://admin:secret@prom:9090", query: "", samples: 2, failureLimit: 2 }
      rollbackDatabase: maybe`),
      ),
    ).toEqual([
      'environments.prod.analysis.checks[0].path: must start with "/"',
      'environments.prod.analysis.checks[0].expectStatus: must be at most 599',
      'environments.prod.analysis.checks[0].requests: must be at least 1',
      'environments.prod.analysis.checks[0].interval: must be a duration like "30s", "10m" or "24h"',
      'environments.prod.analysis.metrics[0].prometheus: must not contain a user or password',
      'environments.prod.analysis.metrics[0].query: must not be empty',
      'environments.prod.analysis.metrics[0].max: is required',
      'environments.prod.analysis.rollbackDatabase: must be true or false, got string "maybe"',
    ]);
    expect(configProblems(withAnalysis('      checks: []'))).toEqual([
      'environments.prod.analysis: must declare at least one check or metric',
    ]);
    expect(
      configProblems(withAnalysis('      metrics: [{ prometheus: "http://p:9090", query: up, max: 1, samples: 2, failureLimit: 2 }]')),
    ).toEqual(['environments.prod.analysis.metrics[0].failureLimit: must be less than samples']);
    expect(configProblems(withAnalysis('      checks: [{ path: /x, requests: 100, interval: 1m }]'))).toEqual([
      'environments.prod.analysis.checks[0].requests: requests × interval must be at most 1h',
    ]);
    expect(configProblems(withAnalysis('      checks: [{ path: /x }]\n      canary: 10'))).toEqual([
      'environments.prod.analysis: unknown field(s) canary',
    ]);
  });
});
