import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, lstat, open, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PackageError } from './errors.js';
import type { LimitCounter } from './limits.js';
import { comparePackagePaths } from './paths.js';

/** One file or folder of a package, path relative to the package root with "/" separators. */
export interface TreeEntry {
  path: string;
  kind: 'file' | 'dir';
  executable: boolean;
  size: number;
}

/**
 * Lists a package folder in canonical order. Symbolic links and special files are refused:
 * a link could point outside the package, and a package must be plain content.
 */
export async function walkPackageTree(root: string, limits?: LimitCounter): Promise<TreeEntry[]> {
  const entries: TreeEntry[] = [];
  const visit = async (relativeDir: string): Promise<void> => {
    const names = await readdir(relativeDir === '' ? root : join(root, relativeDir));
    for (const name of names) {
      const path = relativeDir === '' ? name : `${relativeDir}/${name}`;
      const stats = await lstat(join(root, path));
      if (stats.isSymbolicLink()) {
        throw new PackageError('unsafe-entry', `"${path}" is a symbolic link: a package must not contain links (copy the file in instead)`);
      }
      if (!stats.isFile() && !stats.isDirectory()) {
        throw new PackageError('unsafe-entry', `"${path}" is not a regular file or folder (device, FIFO or socket)`);
      }
      const entry: TreeEntry = {
        path,
        kind: stats.isDirectory() ? 'dir' : 'file',
        executable: stats.isFile() && (stats.mode & 0o111) !== 0,
        size: stats.isFile() ? stats.size : 0,
      };
      limits?.add(path, entry.size);
      entries.push(entry);
      if (entry.kind === 'dir') await visit(path);
    }
  };
  await visit('');
  return entries.sort((a, b) => comparePackagePaths(a.path, b.path));
}

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/**
 * The package id. Hashes a canonical description, one line per entry in byte order of paths:
 *   `dir <json path>` or `file <x|-> <sha256 of content> <json path>`
 * after a `cutover-package-tree v1` line. Modes other than the executable bit, owners and times
 * are left out, so a folder and its tarball give the same id.
 */
export async function hashPackageTree(root: string, entries?: TreeEntry[]): Promise<string> {
  const listed = entries ?? (await walkPackageTree(root));
  const description = createHash('sha256');
  description.update('cutover-package-tree v1\n');
  for (const entry of listed) {
    if (entry.kind === 'dir') {
      description.update(`dir ${JSON.stringify(entry.path)}\n`);
    } else {
      const content = await sha256OfFile(join(root, entry.path));
      description.update(`file ${entry.executable ? 'x' : '-'} ${content} ${JSON.stringify(entry.path)}\n`);
    }
  }
  return description.digest('hex');
}

/** Stored packages are immutable: files 0444 (0555 when executable), folders 0555, the root last. */
export async function makeTreeReadOnly(root: string, entries: TreeEntry[]): Promise<void> {
  // Deepest first, so a folder is closed only after everything inside it.
  for (const entry of [...entries].reverse()) {
    await chmod(join(root, entry.path), entry.kind === 'dir' || entry.executable ? 0o555 : 0o444);
  }
  await chmod(root, 0o555);
}

/** Flushes every file and folder to disk, so a package renamed into place survives a power loss. */
export async function syncTree(root: string, entries: TreeEntry[]): Promise<void> {
  for (const path of [...entries.map((entry) => join(root, entry.path)), root]) {
    const handle = await open(path, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

/** Removes a staging folder even when it was already made read-only (rm needs write access to folders). */
export async function removeTree(root: string): Promise<void> {
  const reopen = async (dir: string): Promise<void> => {
    await chmod(dir, 0o700).catch(() => undefined);
    const children = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const child of children) {
      if (child.isDirectory()) await reopen(join(dir, child.name));
    }
  };
  await reopen(root);
  await rm(root, { recursive: true, force: true });
}
