import { access, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { checkEngineMigrationsFolders } from './engine-migrations.js';
import { PackageError } from './errors.js';
import { MANIFEST_FILE, type PackageManifest } from './manifest.js';
import { checkMigrationsFolder } from './migrations.js';
import { readManifest } from './read-manifest.js';

function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** The most common packing mistake: the package folder itself inside the archive instead of its contents. */
async function wrappedFolderHint(root: string): Promise<string> {
  const entries = await readdir(root, { withFileTypes: true });
  const only = entries.length === 1 ? entries[0] : undefined;
  if (!only?.isDirectory()) return '';
  return (await exists(join(root, only.name, MANIFEST_FILE)))
    ? ` (it is inside the folder "${only.name}/": pack the folder's contents, not the folder)`
    : '';
}

/** Checks a staged package: its manifest and its migrations. Returns the manifest with defaults applied. */
export async function validatePackageTree(root: string): Promise<PackageManifest> {
  if (!(await exists(join(root, MANIFEST_FILE)))) {
    throw new PackageError('invalid-manifest', `${MANIFEST_FILE}: not found at the root of the package${await wrappedFolderHint(root)}`);
  }
  const { manifest, migrationsDeclared } = await readManifest(root);
  await checkMigrationsFolder(root, manifest.migrations, migrationsDeclared);
  await checkEngineMigrationsFolders(root, manifest.migrations);
  return manifest;
}
