import { chmod, lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, describe, expect, test } from 'vitest';
import { PackageError } from '../../src/packages/errors.js';
import { DEFAULT_PACKAGE_LIMITS } from '../../src/packages/limits.js';
import { packDirectory } from '../../src/packages/pack.js';
import { createPackageStore } from '../../src/packages/store.js';
import { tempFolders, validManifest, writeSamplePackage, writeTree } from './support/files.js';
import { writeRawTarball } from './support/tarballs.js';

const folders = tempFolders();
afterAll(() => folders.removeAll());

async function newStore(options?: Parameters<typeof createPackageStore>[1]) {
  const dir = await folders.make('cutover-store-');
  return { store: createPackageStore(dir, options), dir };
}

/** What the store holds on disk: package folders and any leftover staging folder. */
async function storeContents(dir: string): Promise<string[]> {
  return readdir(join(dir, 'sha256')).catch(() => []);
}

async function expectRefused(promise: Promise<unknown>, message: RegExp, code?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PackageError);
  expect((error as PackageError).message).toMatch(message);
  if (code) expect((error as PackageError).code).toBe(code);
}

describe('importing', () => {
  test('a folder, its packed tarball and a plain tar of it give the same package id', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders);
    const out = await folders.make();
    await packDirectory(source, join(out, 'shop.tar.gz'));
    // Like `tar -C source -czf shop-tar.tgz .`: "./" prefixes, real owners and times, folder entries.
    await tar.c({ gzip: true, file: join(out, 'shop-tar.tgz'), cwd: source }, ['.']);

    const fromFolder = await store.importPackage(source);
    const fromPacked = await store.importPackage(join(out, 'shop.tar.gz'));
    const fromTar = await store.importPackage(join(out, 'shop-tar.tgz'));

    expect(fromFolder.ref.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(fromPacked.ref.sha256).toBe(fromFolder.ref.sha256);
    expect(fromTar.ref.sha256).toBe(fromFolder.ref.sha256);
    expect(fromFolder.ref).toEqual({ sha256: fromFolder.ref.sha256, name: 'shop', version: '1.4.0', warmupPath: '/healthz' });
    expect(fromFolder.manifest).toEqual({ ...validManifest, migrations: 'migrations' });
    expect(fromFolder.dir).toBe(join(store.dir, 'sha256', fromFolder.ref.sha256));
    expect(await readFile(join(fromFolder.dir, 'server.cjs'), 'utf8')).toContain('createServer');
  });

  test('importing the same content again returns the existing package, untouched', async () => {
    const { store, dir } = await newStore();
    const source = await writeSamplePackage(folders);
    const first = await store.importPackage(source);
    const before = await stat(first.dir);
    await new Promise((r) => setTimeout(r, 20));

    const again = await store.importPackage(source);

    expect(again).toEqual(first);
    expect((await stat(first.dir)).mtimeMs).toBe(before.mtimeMs);
    expect(await storeContents(dir)).toEqual([first.ref.sha256]);
    expect(await store.listPackages()).toEqual([first]);
  });

  test('concurrent imports of the same content agree and leave no staging folder behind', async () => {
    const { store, dir } = await newStore();
    const source = await writeSamplePackage(folders);
    const results = await Promise.all(Array.from({ length: 5 }, () => store.importPackage(source)));
    expect(new Set(results.map((p) => p.ref.sha256)).size).toBe(1);
    expect(await storeContents(dir)).toEqual([results[0]?.ref.sha256]);
  });

  test('a different content, or only a different executable bit, is a different package', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders);
    const original = await store.importPackage(source);
    await chmod(join(source, 'server.cjs'), 0o755);
    const executable = await store.importPackage(source);
    await writeFile(join(source, 'public/index.html'), '<h1>shop!</h1>\n');
    const edited = await store.importPackage(source);
    expect(new Set([original.ref.sha256, executable.ref.sha256, edited.ref.sha256]).size).toBe(3);
    expect((await store.listPackages()).map((p) => p.ref.sha256).sort()).toEqual(
      [original.ref.sha256, executable.ref.sha256, edited.ref.sha256].sort(),
    );
  });

  test('stored packages are read-only: files 0444, executables and folders 0555', async () => {
    const { store } = await newStore();
    const pkg = await store.importPackage(await writeSamplePackage(folders));
    const mode = async (path: string) => (await lstat(join(pkg.dir, path))).mode & 0o777;
    expect(await mode('.')).toBe(0o555);
    expect(await mode('cutover-package.json')).toBe(0o444);
    expect(await mode('migrations')).toBe(0o555);
    expect(await mode('migrations/0001_create_orders.sql')).toBe(0o444);
    expect(await mode('bin')).toBe(0o555);
    expect(await mode('bin/run.sh')).toBe(0o555);
    if (process.getuid?.() !== 0) {
      // root ignores modes; everyone else is refused
      await expect(writeFile(join(pkg.dir, 'server.cjs'), 'tampered')).rejects.toThrow(/EACCES/);
    }
  });

  test('an unknown source is refused', async () => {
    const { store } = await newStore();
    await expectRefused(
      store.importPackage('/nonexistent/package.tar.gz'),
      /package source "\/nonexistent\/package.tar.gz" not found/,
      'invalid-source',
    );
  });

  test('a file that is not a tarball is refused clearly', async () => {
    const { store, dir } = await newStore();
    const file = join(await folders.make(), 'notes.tar.gz');
    await writeFile(file, 'this is not an archive at all, just some text that goes on for a while '.repeat(20));
    await expectRefused(store.importPackage(file), /not a readable \.tar\.gz/, 'invalid-source');
    expect(await storeContents(dir)).toEqual([]);
  });
});

describe('manifest validation: errors name the field, nothing is stored', () => {
  const cases: [string, unknown, RegExp][] = [
    ['missing start', { name: 'shop', version: '1.0.0' }, /^cutover-package\.json: start: is required \(an array\)$/],
    [
      'start of the wrong type',
      { ...validManifest, start: 'node server.cjs' },
      /^cutover-package\.json: start: must be an array, got a string$/,
    ],
    ['empty start', { ...validManifest, start: [] }, /^cutover-package\.json: start: must name the command to run$/],
    ['empty argument', { ...validManifest, start: ['node', ''] }, /^cutover-package\.json: start\[1\]: must not be empty$/],
    ['bad version', { ...validManifest, version: '1.0 beta' }, /^cutover-package\.json: version: must be a version like 1\.2\.0$/],
    ['version of the wrong type', { ...validManifest, version: 1.2 }, /^cutover-package\.json: version: must be a string, got a number$/],
    ['bad name', { ...validManifest, name: 'My Shop' }, /^cutover-package\.json: name: must be lowercase letters, digits and dashes$/],
    ['relative warmup path', { ...validManifest, warmupPath: 'healthz' }, /^cutover-package\.json: warmupPath: must start with "\/"$/],
    [
      'unknown field',
      { ...validManifest, port: 8080 },
      /^cutover-package\.json: unknown field "port" \(allowed: name, version, start, warmupPath, migrations\)$/,
    ],
    ['not an object', ['node'], /^cutover-package\.json: must be an object, got an array$/],
  ];

  test.each(cases)('%s', async (_label, manifest, message) => {
    const { store, dir } = await newStore();
    const source = await writeSamplePackage(folders, { 'cutover-package.json': JSON.stringify(manifest) });
    await expectRefused(store.importPackage(source), message, 'invalid-manifest');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('several problems are all reported', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders, { 'cutover-package.json': JSON.stringify({ name: 'shop' }) });
    await expectRefused(store.importPackage(source), /version: is required.*; start: is required/);
  });

  test('invalid JSON', async () => {
    const { store, dir } = await newStore();
    const source = await writeSamplePackage(folders, { 'cutover-package.json': '{ "name": "shop", ' });
    await expectRefused(store.importPackage(source), /^cutover-package\.json: not valid JSON/, 'invalid-manifest');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('no manifest, and the hint when the archive wraps the package in a folder', async () => {
    const { store } = await newStore();
    const empty = await writeTree(await folders.make(), { 'server.cjs': '' });
    await expectRefused(store.importPackage(empty), /^cutover-package\.json: not found at the root of the package$/);

    const source = await writeSamplePackage(folders);
    const tarball = join(await folders.make(), 'wrapped.tar.gz');
    await tar.c({ gzip: true, file: tarball, cwd: join(source, '..') }, [source.split('/').pop() ?? '']);
    await expectRefused(
      store.importPackage(tarball),
      /not found at the root of the package \(it is inside the folder "cutover-sample-\w+\/": pack the folder's contents/,
    );
  });
});

describe('migrations validation', () => {
  test('a migration name outside the allowed pattern is refused, naming the file', async () => {
    const { store, dir } = await newStore();
    const source = await writeSamplePackage(folders, { 'migrations/0003 add index.sql': 'SELECT 1;' });
    await expectRefused(
      store.importPackage(source),
      /migration "migrations\/0003 add index\.sql": file name must match/,
      'invalid-migrations',
    );
    expect(await storeContents(dir)).toEqual([]);
  });

  test('a file that is not .sql in the migrations folder is refused (it would never be applied)', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders, { 'migrations/0003_add_index.SQL': 'SELECT 1;' });
    await expectRefused(store.importPackage(source), /migration "migrations\/0003_add_index\.SQL"/);
  });

  test('a folder inside the migrations folder is refused', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders, { 'migrations/old/0000_x.sql': 'SELECT 1;' });
    await expectRefused(store.importPackage(source), /migration "migrations\/old": only \.sql files/);
  });

  test('a migrations folder named by the manifest must exist; the default one may be absent', async () => {
    const { store } = await newStore();
    const declared = await writeTree(await folders.make(), {
      'cutover-package.json': JSON.stringify({ ...validManifest, migrations: 'db/migrations' }),
      'migrations/0001_x.sql': 'SELECT 1;',
    });
    await expectRefused(
      store.importPackage(declared),
      /^cutover-package\.json: migrations: folder "db\/migrations" not found in the package$/,
    );

    const none = await writeTree(await folders.make(), { 'cutover-package.json': JSON.stringify(validManifest) });
    const pkg = await store.importPackage(none);
    expect(await store.readMigrations(pkg)).toEqual([]);
  });

  test('a migrations folder outside the package is refused', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders, {
      'cutover-package.json': JSON.stringify({ ...validManifest, migrations: '../shared' }),
    });
    await expectRefused(store.importPackage(source), /^cutover-package\.json: migrations: must name a folder inside the package/);
  });

  test('readMigrations returns every migration in name order with its SQL', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders, {
      'migrations/0010_add_index.sql': 'CREATE INDEX ON orders (total);\n',
      'migrations/0003_add_status.sql': "ALTER TABLE orders ADD COLUMN status text DEFAULT 'new';\n",
    });
    const pkg = await store.importPackage(source);
    const migrations = await store.readMigrations(pkg);
    expect(migrations.map((m) => m.name)).toEqual([
      '0001_create_orders.sql',
      '0002_add_total.sql',
      '0003_add_status.sql',
      '0010_add_index.sql',
    ]);
    expect(migrations[0]).toEqual({ name: '0001_create_orders.sql', sql: 'CREATE TABLE orders (id serial PRIMARY KEY);\n' });
  });

  test('a migrations folder named in the manifest is the one read', async () => {
    const { store } = await newStore();
    const source = await writeTree(await folders.make(), {
      'cutover-package.json': JSON.stringify({ ...validManifest, migrations: 'db/sql' }),
      'db/sql/0001_a.sql': 'SELECT 1;',
    });
    const pkg = await store.importPackage(source);
    expect(await store.readMigrations(pkg)).toEqual([{ name: '0001_a.sql', sql: 'SELECT 1;' }]);
  });
});

describe('safe extraction: unsafe archive entries are refused by name, nothing is stored', () => {
  const manifest = { path: 'cutover-package.json', body: JSON.stringify(validManifest) };
  const cases: [string, Parameters<typeof writeRawTarball>[1], RegExp][] = [
    [
      'a ".." path',
      [manifest, { path: '../evil', body: 'x' }],
      /unsafe entry "\.\.\/evil" in the package archive: its path contains a "\.\." segment/,
    ],
    ['a ".." path deeper down', [manifest, { path: 'public/../../evil', body: 'x' }], /unsafe entry "public\/\.\.\/\.\.\/evil"/],
    [
      'an absolute path',
      [manifest, { path: '/etc/cron.d/evil', body: 'x' }],
      /unsafe entry "\/etc\/cron\.d\/evil" in the package archive: its path is absolute/,
    ],
    [
      'a symbolic link',
      [manifest, { path: 'passwd', type: 'SymbolicLink', linkpath: '/etc/passwd' }],
      /unsafe entry "passwd" in the package archive: it is a symbolic link \(to "\/etc\/passwd"\)/,
    ],
    [
      'a hard link',
      [manifest, { path: 'copy.json', type: 'Link', linkpath: 'cutover-package.json' }],
      /unsafe entry "copy\.json" in the package archive: it is a hard link/,
    ],
    ['a FIFO', [manifest, { path: 'pipe', type: 'FIFO' }], /unsafe entry "pipe" in the package archive: it is a FIFO/],
    [
      'a character device',
      [manifest, { path: 'null', type: 'CharacterDevice' }],
      /unsafe entry "null" in the package archive: it is a device/,
    ],
    [
      'a duplicate file',
      [manifest, { path: 'a.txt', body: '1' }, { path: 'a.txt', body: '2' }],
      /unsafe entry "a\.txt" in the package archive: the path appears twice/,
    ],
  ];

  test.each(cases)('%s', async (_label, entries, message) => {
    const { store, dir } = await newStore();
    const tarball = await writeRawTarball(join(await folders.make(), 'evil.tar.gz'), entries);
    await expectRefused(store.importPackage(tarball), message, 'unsafe-entry');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('nothing escapes the store while refusing', async () => {
    const { store } = await newStore();
    const parent = await folders.make();
    const tarball = await writeRawTarball(join(parent, 'evil.tar.gz'), [manifest, { path: '../../../evil-marker', body: 'x' }]);
    await expect(store.importPackage(tarball)).rejects.toThrow(PackageError);
    const around = [...(await readdir(parent)), ...(await readdir(store.dir)), ...(await readdir(join(store.dir, '..')))];
    expect(around).not.toContain('evil-marker');
  });

  test('"./" prefixes are fine and normalised', async () => {
    const { store } = await newStore();
    const tarball = await writeRawTarball(join(await folders.make(), 'ok.tar.gz'), [
      { path: './', type: 'Directory' },
      { path: './cutover-package.json', body: JSON.stringify(validManifest) },
      { path: './migrations/', type: 'Directory' },
      { path: './migrations/0001_a.sql', body: 'SELECT 1;' },
    ]);
    const pkg = await store.importPackage(tarball);
    expect((await store.readMigrations(pkg)).map((m) => m.name)).toEqual(['0001_a.sql']);
  });
});

describe('source folders', () => {
  test('a symbolic link inside a source folder is refused, naming it', async () => {
    const { store, dir } = await newStore();
    const source = await writeSamplePackage(folders);
    await symlink('/etc/passwd', join(source, 'public/passwd'));
    await expectRefused(
      store.importPackage(source),
      /"public\/passwd" is a symbolic link: a package must not contain links/,
      'unsafe-entry',
    );
    expect(await storeContents(dir)).toEqual([]);
  });

  test('empty folders are part of the package, the same from a folder or a tarball', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders);
    await mkdir(join(source, 'uploads'));
    const tarball = join(await folders.make(), 'p.tar.gz');
    await packDirectory(source, tarball);
    const fromFolder = await store.importPackage(source);
    expect((await store.importPackage(tarball)).ref.sha256).toBe(fromFolder.ref.sha256);
    expect((await stat(join(fromFolder.dir, 'uploads'))).isDirectory()).toBe(true);
  });
});

describe('limits', () => {
  test('too many entries is refused, from a folder and from a tarball', async () => {
    const { store, dir } = await newStore({ maxEntries: 5 });
    const source = await writeSamplePackage(folders);
    await expectRefused(store.importPackage(source), /package has more than 5 files and folders/, 'too-large');
    const tarball = join(await folders.make(), 'p.tar.gz');
    await packDirectory(source, tarball);
    await expectRefused(store.importPackage(tarball), /package has more than 5 files and folders/, 'too-large');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('too many bytes is refused, from a folder and from a tarball', async () => {
    const { store, dir } = await newStore({ maxTotalBytes: 4096 });
    const source = await writeSamplePackage(folders, { 'public/big.bin': 'x'.repeat(10_000) });
    await expectRefused(
      store.importPackage(source),
      /package content is larger than 4096 bytes \(limit crossed at "public\/big\.bin"/,
      'too-large',
    );
    const tarball = join(await folders.make(), 'p.tar.gz');
    await packDirectory(source, tarball);
    await expectRefused(store.importPackage(tarball), /package content is larger than 4096 bytes/, 'too-large');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('the defaults are 200 MB, 20,000 entries, 1 GB unpacked in at most 2 minutes', async () => {
    const { store } = await newStore();
    const source = await writeSamplePackage(folders);
    await expect(store.importPackage(source)).resolves.toBeDefined();
    expect(DEFAULT_PACKAGE_LIMITS).toEqual({
      maxTotalBytes: 200 * 1024 * 1024,
      maxEntries: 20_000,
      maxUnpackedBytes: 1024 ** 3,
      unpackTimeoutMs: 120_000,
    });
  });
});

describe('archives: read up to the end of the tar, within what they may unpack to and in time', () => {
  const manifest = { path: 'cutover-package.json', body: JSON.stringify(validManifest) };

  test('padding after the end of the tar is fine; more than 1 MB there (a bomb of compressed zeros) is refused', async () => {
    const { store, dir } = await newStore();
    const padded = await writeRawTarball(join(await folders.make(), 'padded.tar.gz'), [manifest], Buffer.alloc(10 * 1024));
    await expect(store.importPackage(padded)).resolves.toBeDefined();
    const bomb = await writeRawTarball(join(await folders.make(), 'bomb.tar.gz'), [manifest], Buffer.alloc(8 * 1024 * 1024));
    const started = Date.now();
    await expectRefused(
      store.importPackage(bomb),
      /^the package archive goes on for more than 1 MB after the end of its tar, the limit/,
      'too-large',
    );
    expect(Date.now() - started).toBeLessThan(20_000);
    expect((await storeContents(dir)).length).toBe(1); // the padded package only
  });

  test('an archive that unpacks to more than maxUnpackedBytes is refused, naming the limit', async () => {
    const { store, dir } = await newStore({ maxUnpackedBytes: 1024 * 1024 });
    const source = await writeSamplePackage(folders, { 'public/zeros.bin': '\0'.repeat(2 * 1024 * 1024) });
    const tarball = join(await folders.make(), 'p.tar.gz');
    await packDirectory(source, tarball);
    await expectRefused(
      store.importPackage(tarball),
      /^the package archive unpacks to more than 1 MB, the limit \(packages\.maxUnpackedBytes\)$/,
      'too-large',
    );
    expect(await storeContents(dir)).toEqual([]);
  });

  test('a tar compressed twice is refused: tar would unpack the inner layer itself, out of the count', async () => {
    const { store, dir } = await newStore();
    const tarball = join(await folders.make(), 'p.tar.gz');
    await packDirectory(await writeSamplePackage(folders), tarball);
    const twice = join(await folders.make(), 'twice.tar.gz');
    await writeFile(twice, gzipSync(await readFile(tarball)));
    await expectRefused(store.importPackage(twice), /^the package archive is compressed twice: a \.tar\.gz holds a tar/, 'invalid-source');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('unpacking is stopped at the time limit, naming it, and leaves nothing behind', async () => {
    const { store, dir } = await newStore({ unpackTimeoutMs: 1 });
    const tarball = join(await folders.make(), 'p.tar.gz');
    // 32 MB to write: far more than a millisecond of work, however fast the machine.
    await packDirectory(await writeSamplePackage(folders, { 'public/zeros.bin': '\0'.repeat(32 * 1024 * 1024) }), tarball);
    await expectRefused(
      store.importPackage(tarball),
      /^unpacking the package archive took longer than 1 ms, the limit \(packages\.unpackTimeout\)$/,
      'too-slow',
    );
    expect(await storeContents(dir)).toEqual([]);
  });
});

describe('deep paths: refused by the limit they cross, before anything is written', () => {
  const manifest = { path: 'cutover-package.json', body: JSON.stringify(validManifest) };
  const deep = (levels: number, name = 'd') => Array.from({ length: levels }, () => name).join('/');

  test.each([
    ['65 levels deep', deep(64) + '/f.txt', /^package path "d\/d\/.*…" is refused: it is 65 levels deep, more than the limit of 64$/],
    [
      'longer than 1024 bytes',
      deep(50, 'x'.repeat(30)),
      /^package path "x{30}\/.*…" is refused: it is 1549 bytes long, more than the limit of 1024 bytes$/,
    ],
    [
      'a name longer than 255 bytes',
      `public/${'n'.repeat(300)}.txt`,
      /is refused: the name "n{100}…" is longer than the limit of 255 bytes$/,
    ],
    // Deeper than the host's PATH_MAX once under the store: this was a 500 naming the staging folder.
    ['past PATH_MAX', deep(300, 'y'.repeat(20)), /is refused: it is 300 levels deep, more than the limit of 64$/],
  ])('in an archive: %s', async (_label, path, message) => {
    const { store, dir } = await newStore();
    const tarball = await writeRawTarball(join(await folders.make(), 'deep.tar.gz'), [manifest, { path, body: 'x' }]);
    await expectRefused(store.importPackage(tarball), message, 'too-deep');
    expect(await storeContents(dir)).toEqual([]);
  });

  test('in a source folder too; 64 levels are fine', async () => {
    const { store, dir } = await newStore();
    const fine = await writeSamplePackage(folders, { [`${deep(63)}/f.txt`]: 'x' });
    await expect(store.importPackage(fine)).resolves.toBeDefined();
    const tooDeep = await writeSamplePackage(folders, { [`${deep(64)}/f.txt`]: 'x' });
    await expectRefused(store.importPackage(tooDeep), /it is 65 levels deep, more than the limit of 64$/, 'too-deep');
    expect((await storeContents(dir)).length).toBe(1);
  });
});

describe('looking packages up', () => {
  test('getPackage finds an imported package, and gives clear errors otherwise', async () => {
    const { store } = await newStore();
    const pkg = await store.importPackage(await writeSamplePackage(folders));
    expect(await store.getPackage(pkg.ref.sha256)).toEqual(pkg);
    expect(await store.getPackage(pkg.ref.sha256.toUpperCase())).toEqual(pkg);
    await expectRefused(
      store.getPackage('f'.repeat(64)),
      new RegExp(`^no package ${'f'.repeat(64)} in the store at .*: import it first$`),
      'unknown-package',
    );
    await expectRefused(store.getPackage('1234'), /^package id must be 64 hexadecimal characters \(a sha256\), got "1234"$/, 'invalid-id');
    await expectRefused(store.getPackage('../'.repeat(21) + 'x'), /must be 64 hexadecimal characters/, 'invalid-id');
  });

  test('listPackages of an empty store is empty, and sorts by name then version', async () => {
    const { store } = await newStore();
    expect(await store.listPackages()).toEqual([]);
    for (const [name, version] of [
      ['web', '2.0.0'],
      ['api', '1.0.0'],
      ['web', '1.0.0'],
    ] as const) {
      await store.importPackage(
        await writeSamplePackage(folders, { 'cutover-package.json': JSON.stringify({ ...validManifest, name, version }) }),
      );
    }
    expect((await store.listPackages()).map((p) => `${p.ref.name}@${p.ref.version}`)).toEqual(['api@1.0.0', 'web@1.0.0', 'web@2.0.0']);
  });
});
