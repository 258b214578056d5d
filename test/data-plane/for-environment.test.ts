/**
 * The worker's view of an environment's data plane: the adapter its config names, the workflow's route targets in the
 * port's shape and back, and its errors as activity failures (a refusal is final, an unreachable proxy is retried).
 */
import { ApplicationFailure } from '@temporalio/common';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { RouteTarget } from '../../src/activities/contract.js';
import { dataPlaneRefusalIsFinal } from '../../src/activities/failures.js';
import { parseConfig } from '../../src/config/load.js';
import { DataPlaneUnavailableError } from '../../src/platform/data-plane/errors.js';
import { dataPlaneFor } from '../../src/platform/data-plane/for-environment.js';
import { fromTarget, toLiveTarget, toSlotTarget } from '../../src/platform/data-plane/route-target.js';
import { writeDataPlaneConfig } from '../../src/platform/data-plane/write-config.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cutover-for-environment-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const config = (dataPlane: string) =>
  parseConfig(
    `
environments:
  prod:
    dataPlane: ${dataPlane}
    router: { adminPort: 7400 }
    sites: [{ name: web, role: zdd, publicPort: 18080, previewPort: 18081 }]
`,
    '/etc/cutover.yaml',
  );

describe('the data plane of an environment', () => {
  test('the adapter its config names', () => {
    expect(dataPlaneFor(config('{ adapter: builtin }'), 'prod', {}).adapter).toBe('builtin');
    expect(dataPlaneFor(config(`{ adapter: haproxy, dir: ${dir}/haproxy }`), 'prod', {}).adapter).toBe('haproxy');
    expect(dataPlaneFor(config(`{ adapter: nginx, dir: ${dir}/nginx }`), 'prod', {}).adapter).toBe('nginx');
    expect(() => dataPlaneFor(config('{ adapter: builtin }'), 'staging', {})).toThrow('unknown environment "staging"');
  });

  test('route targets: one copy on loopback or several replicas, and back in the shape the workflow sent', () => {
    const one = { kind: 'slot', slotId: 'web-1', port: 4100 } as const;
    expect(toLiveTarget(one)).toEqual({ kind: 'slot', slotId: 'web-1', replicas: [{ host: '127.0.0.1', port: 4100 }] });
    expect(fromTarget(toLiveTarget(one))).toEqual({ ...one, host: '127.0.0.1' });
    const pkg = { sha256: 'a'.repeat(64), version: '2.0.0' };
    const several: RouteTarget = {
      kind: 'slot',
      slotId: 'web-2',
      replicas: [
        { host: '10.0.0.11', port: 4100 },
        { host: '10.0.0.12', port: 4100, weight: 3 },
      ],
      package: pkg,
    };
    const target = toSlotTarget(several as Extract<RouteTarget, { kind: 'slot' }>);
    expect(target.replicas).toEqual([
      { host: '10.0.0.11', port: 4100 },
      { host: '10.0.0.12', port: 4100 },
    ]);
    expect(fromTarget(target)).toEqual({ ...several, replicas: target.replicas });
    expect(fromTarget(toLiveTarget({ kind: 'maintenance', message: 'back soon' }))).toEqual({ kind: 'maintenance', message: 'back soon' });
  });

  test('a refusal is a final invalid-input failure naming the problem; a proxy not running is worth retrying', async () => {
    const cfg = config(`{ adapter: haproxy, dir: ${dir}/haproxy }`);
    await writeDataPlaneConfig(cfg, 'prod');
    const plane = dataPlaneFor(cfg, 'prod', {});
    const refused = await dataPlaneRefusalIsFinal(() =>
      plane.setLive('web', toLiveTarget({ kind: 'slot', slotId: 'web-1', host: 'app1.internal', port: 4100 })),
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ type: 'invalid-input', nonRetryable: true });
    expect((refused as Error).message).toContain('target.replicas[0].host: must be an IP address');
    const unknownSite = await dataPlaneRefusalIsFinal(() => plane.setPreview('api', null)).catch((e: unknown) => e);
    expect(unknownSite).toMatchObject({ type: 'invalid-input', nonRetryable: true });
    expect((unknownSite as Error).message).toContain('unknown site "api"');
    // HAProxy is not running: its runtime API socket does not answer.
    await expect(dataPlaneRefusalIsFinal(() => plane.routes())).rejects.toBeInstanceOf(DataPlaneUnavailableError);
  });
});
