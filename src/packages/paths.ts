/** A path found inside a package, checked: either "a/b/c" relative to the package root, or why it is refused. */
export type PackagePathCheck = { ok: true; path: string } | { ok: false; reason: string };

/**
 * Normalises a tar entry name or a manifest path to "a/b/c" ('' is the package root itself),
 * refusing anything that could land outside the package folder once written to disk.
 */
export function checkPackagePath(raw: string): PackagePathCheck {
  if (raw.includes('\0')) return { ok: false, reason: 'its path contains a NUL byte' };
  // A backslash is a separator on Windows: refusing it keeps a package's meaning the same everywhere.
  if (raw.includes('\\')) return { ok: false, reason: 'its path contains a backslash' };
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return { ok: false, reason: 'its path is absolute' };
  const segments = raw.split('/').filter((segment) => segment !== '' && segment !== '.');
  // Any ".." is refused, even one that stays inside: a package has no reason to use it.
  if (segments.includes('..')) return { ok: false, reason: 'its path contains a ".." segment that may leave the package folder' };
  return { ok: true, path: segments.join('/') };
}

/** Byte order of the UTF-8 paths: the canonical order, the same on every machine and locale. */
export function comparePackagePaths(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
