import { readFile, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, expect, test } from 'vitest';
import { packDirectory } from '../../src/packages/pack.js';
import { hashPackageTree } from '../../src/packages/tree.js';
import { tempFolders, writeSamplePackage } from './support/files.js';

const folders = tempFolders();
afterAll(() => folders.removeAll());

test('packing is deterministic: same content, same bytes, whatever the times', async () => {
  const source = await writeSamplePackage(folders);
  const out = await folders.make();
  await packDirectory(source, join(out, 'a.tar.gz'));
  await utimes(join(source, 'server.cjs'), new Date('2001-01-01'), new Date('2001-01-01'));
  await packDirectory(source, join(out, 'b.tar.gz'));
  expect((await readFile(join(out, 'a.tar.gz'))).equals(await readFile(join(out, 'b.tar.gz')))).toBe(true);
});

test('a packed tarball lists sorted entries with normalised modes and no owners or times', async () => {
  const source = await writeSamplePackage(folders);
  const file = join(await folders.make(), 'p.tar.gz');
  await packDirectory(source, file);
  const entries: { path: string; mode?: number; mtime?: Date; uid?: number }[] = [];
  await tar.t({ file, onReadEntry: (e) => entries.push({ path: e.path, mode: e.mode, mtime: e.mtime, uid: e.uid }) });
  expect(entries.map((e) => e.path)).toEqual([
    'bin/',
    'bin/run.sh',
    'cutover-package.json',
    'migrations/',
    'migrations/0001_create_orders.sql',
    'migrations/0002_add_total.sql',
    'public/',
    'public/index.html',
    'server.cjs',
  ]);
  expect(entries.find((e) => e.path === 'bin/run.sh')?.mode).toBe(0o755);
  expect(entries.find((e) => e.path === 'server.cjs')?.mode).toBe(0o644);
  expect(entries.every((e) => e.mtime?.getTime() === 0 && e.uid === 0)).toBe(true);
});

test('long paths survive packing (pax headers)', async () => {
  const deep = `${'a'.repeat(60)}/${'b'.repeat(60)}/${'c'.repeat(90)}.txt`;
  const source = await writeSamplePackage(folders, { [deep]: 'deep' });
  const file = join(await folders.make(), 'p.tar.gz');
  await packDirectory(source, file);
  const paths: string[] = [];
  await tar.t({ file, onReadEntry: (e) => paths.push(e.path) });
  expect(paths).toContain(deep);
  expect(await hashPackageTree(source)).toMatch(/^[0-9a-f]{64}$/);
});

test('packing refuses a folder with a symbolic link, as the store would', async () => {
  const source = await writeSamplePackage(folders);
  await symlink('server.cjs', join(source, 'alias.cjs'));
  await expect(packDirectory(source, join(await folders.make(), 'p.tar.gz'))).rejects.toThrow(/"alias\.cjs" is a symbolic link/);
});
