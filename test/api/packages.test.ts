/**
 * Packages at the API's edge, on a real Temporal server: an upload bomb neither holds the event loop
 * (timed through a real HTTP server) nor gets in; very deep paths are a 422 naming the limit; a token
 * reads host paths only under the package roots, with one answer that does not tell what exists there;
 * a relative path is refused (the API cannot know the caller's working directory).
 */
import { Client, Connection } from '@temporalio/client';
import { serve } from '@hono/node-server';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { createApiDeps } from '../../src/api/deps.js';
import { parseConfig } from '../../src/config/load.js';
import { freePort } from '../../src/process/free-port.js';
import { packDirectory } from '../../src/packages/pack.js';
import { writeRawTarball } from '../packages/support/tarballs.js';

const MB = 1024 * 1024;
/** /health answers in tens of milliseconds; the margin is for this loaded machine. Before the fix it waited 30 s and more. */
const HEALTH_LIMIT_MS = 500;

const environment = `pk${randomBytes(3).toString('hex')}`;
const deployerToken = randomBytes(18).toString('base64url');
const scratch = mkdtempSync(join(tmpdir(), 'cutover-api-packages-'));
const folder = (name: string) => {
  const path = join(scratch, name);
  mkdirSync(path, { recursive: true });
  return path;
};

let connection: Connection;
let client: Client;

beforeAll(async () => {
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
  rmSync(scratch, { recursive: true, force: true });
});

/** An API on its own config: with or without tokens (a deployer limited to the environment), and a `packages` section. */
async function apiFor(name: string, { auth, packages }: { auth: boolean; packages?: string }) {
  const [admin, site, preview] = await Promise.all([freePort(), freePort(), freePort()]);
  const stateDir = folder(`${name}/state`);
  const file = join(folder(`${name}/config`), 'cutover.yaml');
  const tokens = `auth:
  tokens:
    - { name: ci, sha256: ${createHash('sha256').update(deployerToken).digest('hex')}, roles: [deployer], environments: [${environment}] }`;
  const yaml = `
stateDir: ${stateDir}
temporal: { address: "${inject('temporalAddress')}", taskQueue: cutover-${environment} }
${packages ? `packages: ${packages}` : ''}
${auth ? tokens : ''}
environments:
  ${environment}:
    router: { adminPort: ${admin} }
    sites: [{ name: web, role: zdd, publicPort: ${site}, previewPort: ${preview} }]
`;
  writeFileSync(file, yaml);
  const app = createApp(createApiDeps(parseConfig(yaml, file), client, {}, { uploadDir: folder(`${name}/uploads`) }));
  const authorization: Record<string, string> = auth ? { authorization: `Bearer ${deployerToken}` } : {};
  return {
    app,
    stateDir,
    configDir: join(file, '..'),
    authorization,
    /** Package ids in the store: what got in. */
    stored: () => {
      const packages = join(stateDir, 'packages', 'sha256');
      return (existsSync(packages) ? readdirSync(packages) : []).filter((name) => /^[0-9a-f]{64}$/.test(name));
    },
    async deploy(pkg: string) {
      const res = await app.request(`/v1/environments/${environment}/deployments`, {
        method: 'POST',
        headers: { ...authorization, 'content-type': 'application/json' },
        body: JSON.stringify({ package: pkg }),
      });
      return { status: res.status, body: (await res.json()) as { error: { message: string; fields?: { field: string }[] } } };
    },
  };
}

async function listen(app: ReturnType<typeof createApp>): Promise<{ url: string; close(): Promise<void> }> {
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(s));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

async function packed(dir: string): Promise<Buffer> {
  const file = join(folder('packed'), `${randomBytes(4).toString('hex')}.tar.gz`);
  await packDirectory(dir, file);
  return readFileSync(file);
}

const upload = (url: string, authorization: Record<string, string>, body: Uint8Array) =>
  fetch(`${url}/v1/packages`, { method: 'POST', headers: { ...authorization, 'content-type': 'application/gzip' }, body });

describe('uploads', () => {
  let api: Awaited<ReturnType<typeof apiFor>>;
  let server: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    api = await apiFor('uploads', { auth: true, packages: `{ maxUnpackedBytes: ${4 * MB} }` });
    server = await listen(api.app);
  });
  afterAll(async () => {
    await server?.close();
  });

  test('a bomb of zeros after the end of a valid tar: /health keeps answering, the upload is refused in bounded time', async () => {
    const tar = gunzipSync(await packed('examples/demo-app/v1'));
    const bomb = gzipSync(Buffer.concat([tar, Buffer.alloc(32 * MB)]), { level: 9 });
    expect(bomb.length).toBeLessThan(40 * 1024); // the size of the upload that held the API for 34 s
    expect((await fetch(`${server.url}/health`)).status).toBe(200); // connections warm

    let uploading = true;
    const healthMs: number[] = [];
    const polling = (async () => {
      while (uploading) {
        const started = performance.now();
        // A health check that fails (the connection reset by a stalled server) counts as never answered.
        const answered = await fetch(`${server.url}/health`)
          .then((r) => r.text())
          .then(
            () => true,
            () => false,
          );
        healthMs.push(answered ? performance.now() - started : Infinity);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const started = performance.now();
    const res = await upload(server.url, api.authorization, bomb).finally(() => {
      uploading = false;
    });
    const body = (await res.json()) as { error: { message: string } };
    const tookMs = performance.now() - started;
    await polling;

    expect(res.status).toBe(422);
    expect(body.error.message).toBe(
      'body: the package was refused: the package archive goes on for more than 1 MB after the end of its tar, the limit for padding',
    );
    expect(tookMs).toBeLessThan(20_000);
    expect(healthMs.length).toBeGreaterThanOrEqual(3);
    expect(Math.max(...healthMs), `health answered in ${healthMs.map(Math.round).join(', ')} ms`).toBeLessThan(HEALTH_LIMIT_MS);
    expect(api.stored()).toEqual([]);
  }, 120_000);

  test('an archive that unpacks past packages.maxUnpackedBytes of the config is refused, naming it', async () => {
    const dir = folder('big-package');
    writeFileSync(join(dir, 'cutover-package.json'), JSON.stringify({ name: 'big', version: '1.0.0', start: ['node', 'server.cjs'] }));
    writeFileSync(join(dir, 'zeros.bin'), Buffer.alloc(5 * MB));
    const res = await upload(server.url, api.authorization, await packed(dir));
    expect(res.status).toBe(422);
    expect(((await res.json()) as { error: { message: string } }).error.message).toBe(
      'body: the package was refused: the package archive unpacks to more than 4 MB, the limit (packages.maxUnpackedBytes)',
    );
    expect(api.stored()).toEqual([]);
  });

  test('very deep paths are a 422 naming the limit, and the message shows none of the server’s folders', async () => {
    const manifest = { path: 'cutover-package.json', body: JSON.stringify({ name: 'deep', version: '1.0.0', start: ['node', 'x.cjs'] }) };
    const deep = Array.from({ length: 300 }, () => 'y'.repeat(20)).join('/'); // past PATH_MAX once under the store
    const tarball = await writeRawTarball(join(folder('deep'), 'deep.tar.gz'), [manifest, { path: `${deep}/x.cjs`, body: 'x' }]);
    const res = await upload(server.url, api.authorization, readFileSync(tarball));
    const body = (await res.json()) as { error: { message: string; fields: { field: string }[] } };
    expect(res.status, JSON.stringify(body)).toBe(422);
    expect(body.error.message).toMatch(
      /^body: the package was refused: package path "y{20}\/.*…" is refused: it is 301 levels deep, more than the limit of 64$/,
    );
    expect(body.error.fields.map((f) => f.field)).toEqual(['body']);
    expect(body.error.message).not.toContain(scratch);
    expect(body.error.message).not.toContain('staging');
  });
});

describe('packages named by host path', () => {
  // A package root with a broken package in it (read: its own error shows) and a link leading out of it.
  const root = folder('host/root');
  const outside = folder('host/outside');
  writeFileSync(join(outside, 'README'), 'not a package\n');
  mkdirSync(join(root, 'broken'));
  writeFileSync(join(root, 'broken', 'README'), 'not a package either\n');
  symlinkSync(outside, join(root, 'escape'));

  test('a token reads only under packages.roots; outside, one answer for a file, a folder, a missing path or a way out', async () => {
    const api = await apiFor('roots', { auth: true, packages: `{ roots: [${root}] }` });
    const missing = `/no-such-place-${randomBytes(4).toString('hex')}`;
    const refused = [
      '/etc/passwd',
      '/etc',
      missing,
      outside,
      join(root, 'escape'),
      join(root, 'missing'),
      `${root}/../${basename(outside)}`,
    ];
    const answers = new Set<string>();
    for (const path of refused) {
      const res = await api.deploy(path);
      expect(res.status, `${path}: ${JSON.stringify(res.body)}`).toBe(422);
      expect(res.body.error.fields?.map((f) => f.field)).toEqual(['body.package']);
      answers.add(res.body.error.message.replace(path, '<path>'));
    }
    expect([...answers]).toEqual([
      'body.package: no package at <path> under the package roots (packages.roots in the config); give a path under one, or upload the package ' +
        '(POST /v1/packages; `cutover deploy` does it for a folder or .tar.gz) and give sha256:<id>',
    ]);
    // Under a root, the package itself is read: its own problem shows.
    const broken = await api.deploy(join(root, 'broken'));
    expect(broken.status).toBe(422);
    expect(broken.body.error.message).toBe('body.package: cutover-package.json: not found at the root of the package');
  });

  test('with tokens and no package roots, host paths are refused without looking at them', async () => {
    const api = await apiFor('no-roots', { auth: true });
    for (const path of ['/etc', join(root, 'broken'), '/no-such-place']) {
      const res = await api.deploy(path);
      expect(res.status).toBe(422);
      expect(res.body.error.message).toBe(
        'body.package: host paths are not accepted: this Cutover has no package roots (packages.roots in its config); upload the package ' +
          '(POST /v1/packages; `cutover deploy` does it for a folder or .tar.gz) and give sha256:<id>',
      );
    }
  });

  test('an open API (no tokens, local development) still reads absolute host paths', async () => {
    const api = await apiFor('open', { auth: false });
    const res = await api.deploy(join(root, 'broken'));
    expect(res.status).toBe(422);
    expect(res.body.error.message).toBe('body.package: cutover-package.json: not found at the root of the package');
  });

  test('a relative path is refused, naming the field: it is not resolved against the config file’s folder', async () => {
    for (const options of [{ auth: false }, { auth: true, packages: `{ roots: [${scratch}] }` }]) {
      const api = await apiFor(`relative-${options.auth}`, options);
      // A broken package beside the config file: read before, whatever the caller meant.
      mkdirSync(join(api.configDir, 'pkg'));
      writeFileSync(join(api.configDir, 'pkg', 'README'), 'x\n');
      for (const path of ['pkg', './pkg', '../config/pkg', 'examples/demo-app/v1']) {
        const res = await api.deploy(path);
        expect(res.status, JSON.stringify(res.body)).toBe(422);
        expect(res.body.error.fields?.map((f) => f.field)).toEqual(['body.package']);
        expect(res.body.error.message).toBe(
          `body.package: "${path}" is a relative path, and the API does not know the caller's working directory: give an absolute path on the ` +
            'Cutover host, or upload the package (POST /v1/packages; `cutover deploy` does it for a folder or .tar.gz) and give sha256:<id>',
        );
      }
    }
  });
});
