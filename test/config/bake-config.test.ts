/** The `bake` of an environment and the builtin analysis metrics: what the workflow gets, and errors that name the field. */
import { describe, expect, test } from 'vitest';
import { planFor } from '../../src/activities/environments.js';
import { parseConfig } from '../../src/config/load.js';
import { configProblems } from './problems.js';

const env = (section: string) => `
environments:
  prod:
    router: { adminPort: 7400 }
    sites:
      - { name: web, role: zdd, publicPort: 8080, previewPort: 8081 }
${section}
`;

describe('bake configuration', () => {
  test('a bake loads with its default interval; the plan has milliseconds', () => {
    const config = parseConfig(env('    bake: { duration: 10m, thresholds: { maxErrorRate: 0.05, maxP99: 800ms } }'), '/etc/cutover.yaml');
    expect(planFor(config, 'prod').bake).toEqual({ durationMs: 600_000, intervalMs: 10_000, maxErrorRate: 0.05, maxP99Ms: 800 });
  });

  test('errors name the field', () => {
    expect(configProblems(env('    bake: { duration: 2h, interval: 1s, thresholds: { maxErrorRate: 2 } }'))).toEqual([
      expect.stringMatching(/bake\.duration: must be at most 1h/),
      expect.stringMatching(/bake\.thresholds\.maxErrorRate: must be at most 1/),
    ]);
    expect(configProblems(env('    bake: { duration: 10m, thresholds: {} }'))).toEqual([
      expect.stringMatching(/bake\.thresholds: must declare maxErrorRate and\/or maxP99/),
    ]);
    expect(configProblems(env('    bake: { duration: 10s, interval: 1m, thresholds: { maxP99: 1s } }'))).toEqual([
      expect.stringMatching(/bake\.interval: must be at most the duration/),
    ]);
  });
});

describe('builtin analysis metrics', () => {
  test('error-rate and p99 from the router load without prometheus or query', () => {
    const config = parseConfig(
      env(`    analysis:
      metrics:
        - { builtin: error-rate, max: 0.05, interval: 2s }
        - { name: slow, builtin: p99, max: 500 }`),
      '/etc/cutover.yaml',
    );
    const metrics = planFor(config, 'prod').analysis!.metrics;
    expect(metrics[0]).toMatchObject({ name: 'error-rate', builtin: 'error-rate', prometheusUrl: '', max: 0.05, intervalMs: 2_000 });
    expect(metrics[1]).toMatchObject({ name: 'slow', builtin: 'p99', max: 500, samples: 3 });
  });

  test('errors name the field', () => {
    expect(
      configProblems(
        env(`    analysis:
      metrics:
        - { builtin: error-rate, max: 5, query: "up" }
        - { builtin: latency, max: 1 }
        - { max: 1 }`),
      ),
    ).toEqual([
      expect.stringMatching(/analysis\.metrics\[0\]\.query: must not be set with builtin/),
      expect.stringMatching(/analysis\.metrics\[0\]\.max: must be a fraction from 0 to 1/),
      expect.stringMatching(/analysis\.metrics\[1\]\.builtin: must be one of error-rate, p99/),
      expect.stringMatching(/analysis\.metrics\[2\]\.prometheus: is required \(or builtin/),
      expect.stringMatching(/analysis\.metrics\[2\]\.query: is required \(or builtin/),
    ]);
  });
});
