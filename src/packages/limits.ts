import { durationMs } from '../config/duration.js';
import type { CutoverConfig } from '../config/schema.js';
import { PackageError } from './errors.js';

export interface PackageLimits {
  /** Sum of the sizes of all files; default 200 MB. */
  maxTotalBytes: number;
  /** Files and folders; default 20,000. */
  maxEntries: number;
  /** What a .tar.gz may unpack to, tar headers and padding included; default 1 GB. */
  maxUnpackedBytes: number;
  /** How long unpacking a .tar.gz may take; default 2 minutes. */
  unpackTimeoutMs: number;
}

export const DEFAULT_PACKAGE_LIMITS: PackageLimits = {
  maxTotalBytes: 200 * 1024 * 1024,
  maxEntries: 20_000,
  maxUnpackedBytes: 1024 * 1024 * 1024,
  unpackTimeoutMs: 2 * 60 * 1000,
};

/** The limits an operator sets in the config's `packages` section; the rest keep their defaults. */
export function configuredPackageLimits(packages: CutoverConfig['packages']): Partial<PackageLimits> {
  return { maxUnpackedBytes: packages.maxUnpackedBytes, unpackTimeoutMs: durationMs(packages.unpackTimeout) };
}

/** Folders a package path may go down, and its length in bytes: far from the host's PATH_MAX once under the store. */
export const MAX_PATH_DEPTH = 64;
export const MAX_PATH_BYTES = 1024;
/** One file or folder name, in bytes: the NAME_MAX of common filesystems. */
export const MAX_NAME_BYTES = 255;

export function describeBytes(bytes: number): string {
  if (bytes >= 1024 * 1024 * 1024) return `${Math.round((bytes / (1024 * 1024 * 1024)) * 10) / 10} GB`;
  return bytes >= 1024 * 1024 ? `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB` : `${bytes} bytes`;
}

/** A path in a message: the start of a very long one is enough to find it. */
function shortPath(path: string): string {
  return path.length > 100 ? `${path.slice(0, 100)}…` : path;
}

/** Why a package path is refused for its depth or length; undefined when it is within the limits. */
function pathLimitCrossed(path: string): string | undefined {
  const names = path.split('/');
  if (names.length > MAX_PATH_DEPTH) return `it is ${names.length} levels deep, more than the limit of ${MAX_PATH_DEPTH}`;
  const bytes = Buffer.byteLength(path, 'utf8');
  if (bytes > MAX_PATH_BYTES) return `it is ${bytes} bytes long, more than the limit of ${MAX_PATH_BYTES} bytes`;
  const long = names.find((name) => Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES);
  if (long !== undefined) return `the name "${shortPath(long)}" is longer than the limit of ${MAX_NAME_BYTES} bytes`;
  return undefined;
}

/** Counts what an import has taken in so far and refuses, before writing, the entry that crosses a limit. */
export class LimitCounter {
  private entries = 0;
  private bytes = 0;

  constructor(private readonly limits: Pick<PackageLimits, 'maxTotalBytes' | 'maxEntries'>) {}

  add(path: string, size: number): void {
    const crossed = pathLimitCrossed(path);
    if (crossed) throw new PackageError('too-deep', `package path "${shortPath(path)}" is refused: ${crossed}`);
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
