import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { databaseEngines, type DatabaseEngineName } from '../config/schema.js';
import { checkMigrationsFolder } from './migrations.js';
import { checkPackagePath } from './paths.js';

/**
 * Migrations written for one engine live beside the package's migrations folder, named after it and the
 * engine: `migrations.sqlserver/` next to `migrations/`. A package without one uses the shared folder.
 */
export function engineMigrationsFolder(folder: string, engine: DatabaseEngineName): string {
  const checked = checkPackagePath(folder);
  return `${checked.ok ? checked.path : folder}.${engine}`;
}

/** The folder a database of this engine takes its migrations from: its own when the package has one, else the shared one. */
export async function migrationsFolderFor(root: string, folder: string, engine: DatabaseEngineName): Promise<string> {
  const own = engineMigrationsFolder(folder, engine);
  const stats = await stat(join(root, own)).catch(() => undefined);
  return stats?.isDirectory() ? own : folder;
}

/** Engine folders get the same checks as the shared one (only .sql files with safe names, UTF-8); each may be absent. */
export async function checkEngineMigrationsFolders(root: string, folder: string): Promise<void> {
  for (const engine of databaseEngines) await checkMigrationsFolder(root, engineMigrationsFolder(folder, engine), false);
}
