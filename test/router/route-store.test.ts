import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { RouteStore } from '../../src/platform/router/route-store.js';
import { startRouter } from '../../src/platform/router/main.js';
import { quietLogger, testEnvironment } from './support.js';

let stateDir: string;
beforeEach(async () => {
  stateDir = await mkdtemp(join(tmpdir(), 'cutover-route-store-'));
});
afterEach(() => rm(stateDir, { recursive: true, force: true }));

describe('RouteStore', () => {
  test('with no file yet, every site starts with no routes', async () => {
    const store = new RouteStore(stateDir, 'acme');
    expect(store.file).toBe(join(stateDir, 'router', 'acme.json'));
    expect(await store.load(['shop'])).toEqual({
      table: { environment: 'acme', sites: { shop: { live: null, preview: null } } },
      droppedSites: [],
    });
  });

  test('what is saved is loaded back, and no temporary file is left behind', async () => {
    const store = new RouteStore(stateDir, 'acme');
    const table = {
      environment: 'acme',
      sites: {
        shop: { live: { kind: 'slot' as const, slotId: 's1', port: 8001, host: '127.0.0.1' }, preview: null },
        admin: { live: { kind: 'maintenance' as const, message: 'soon' }, preview: null },
      },
    };
    for (let i = 0; i < 5; i += 1) await store.save(table);
    expect((await store.load(['shop', 'admin'])).table).toEqual(table);
    expect(await readdir(join(stateDir, 'router'))).toEqual(['acme.json']);
  });

  test('a site new to the config starts empty; a site gone from the config is dropped and reported', async () => {
    const store = new RouteStore(stateDir, 'acme');
    await store.save({ environment: 'acme', sites: { old: { live: { kind: 'maintenance' }, preview: null } } });
    expect(await store.load(['shop'])).toEqual({
      table: { environment: 'acme', sites: { shop: { live: null, preview: null } } },
      droppedSites: ['old'],
    });
  });

  test('a damaged file is refused with a message naming the file and the problem, never guessed around', async () => {
    const store = new RouteStore(stateDir, 'acme');
    await mkdir(join(stateDir, 'router'), { recursive: true });
    await writeFile(store.file, '{"environment": "acme", "sites": {"shop": {"live": {"kind": "slot", "port": 80}, "preview": null}}}');
    await expect(store.load(['shop'])).rejects.toThrow(
      `route store ${store.file} is invalid: sites.shop.live.slotId: is required; fix or remove it`,
    );
    await writeFile(store.file, '{"environment": "acme", ');
    await expect(store.load(['shop'])).rejects.toThrow(/is not valid JSON/);
    await writeFile(store.file, '{"environment": "other", "sites": {}}');
    await expect(store.load(['shop'])).rejects.toThrow('belongs to environment "other", not "acme"');
  });

  test('the router refuses to start on a damaged route file rather than serve the wrong slot', async () => {
    const env = await testEnvironment();
    await mkdir(join(env.stateDir, 'router'), { recursive: true });
    await writeFile(join(env.stateDir, 'router', 'acme.json'), 'not json');
    await expect(startRouter({ config: env.config, host: 'local', logger: quietLogger(), env: env.processEnv })).rejects.toThrow(
      /route store .* is not valid JSON/,
    );
    // Nothing was left listening: the same ports can be taken again.
    await rm(join(env.stateDir, 'router', 'acme.json'));
    const router = await startRouter({ config: env.config, host: 'local', logger: quietLogger(), env: env.processEnv });
    await router.close();
    await env.cleanup();
  });

  test('a port already in use is named in the error and nothing is left listening', async () => {
    const env = await testEnvironment();
    const first = await startRouter({ config: env.config, host: 'local', logger: quietLogger(), env: env.processEnv });
    await expect(startRouter({ config: env.config, host: 'local', logger: quietLogger(), env: env.processEnv })).rejects.toThrow(
      `cannot listen on 127.0.0.1:${env.ports.shop.public} for the public listener of site shop of environment acme: the port is already in use`,
    );
    await first.close();
    await env.cleanup();
  });
});
