import { PackageError } from './errors.js';

export interface PackageLimits {
  /** Sum of the sizes of all files; default 200 MB. */
  maxTotalBytes: number;
  /** Files and folders; default 20,000. */
  maxEntries: number;
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = { maxTotalBytes: 200 * 1024 * 1024, maxEntries: 20_000 };

function describeBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB` : `${bytes} bytes`;
}

/** Counts what an import has taken in so far and refuses, before writing, the entry that crosses a limit. */
export class LimitCounter {
  private entries = 0;
  private bytes = 0;

  constructor(private readonly limits: PackageLimits) {}

  add(path: string, size: number): void {
    this.entries += 1;
    this.bytes += size;
    if (this.entries > this.limits.maxEntries) {
      throw new PackageError('too-large', `package has more than ${this.limits.maxEntries} files and folders (limit reached at "${path}")`);
    }
    if (this.bytes > this.limits.maxTotalBytes) {
      throw new PackageError(
        'too-large',
        `package content is larger than ${describeBytes(this.limits.maxTotalBytes)} (limit crossed at "${path}", ${describeBytes(size)})`,
      );
    }
  }
}
