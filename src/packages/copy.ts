import { chmod, copyFile, constants, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { LimitCounter } from './limits.js';
import { walkPackageTree } from './tree.js';

/** Copies a package folder into a staging folder; the walk refuses links and special files before anything is copied. */
export async function copyPackageDirectory(source: string, staging: string, limits: LimitCounter): Promise<void> {
  const entries = await walkPackageTree(source, limits);
  for (const entry of entries) {
    const target = join(staging, entry.path);
    if (entry.kind === 'dir') {
      await mkdir(target, { recursive: true });
    } else {
      await copyFile(join(source, entry.path), target, constants.COPYFILE_EXCL);
      // Explicit mode: the umask must not decide whether the executable bit (part of the id) survives.
      await chmod(target, entry.executable ? 0o755 : 0o644);
    }
  }
}
