import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Migration } from '../engines/engine.js';
import { PackageError } from './errors.js';
import { checkPackagePath } from './paths.js';

/** Names that sort into apply order and are safe in any engine's history table. */
export const MIGRATION_FILE_PATTERN = /^[0-9A-Za-z._-]+\.sql$/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): PackageError {
  return new PackageError('invalid-migrations', message);
}

/**
 * Checks the migrations folder of a staged package: every entry must be a `*.sql` file with a safe
 * name in UTF-8 (a misnamed file would otherwise be silently skipped, and its change never applied).
 * A folder named explicitly by the manifest must exist; the default one may be absent (no migrations).
 */
export async function checkMigrationsFolder(root: string, folder: string, declared: boolean): Promise<void> {
  const checked = checkPackagePath(folder);
  if (!checked.ok || checked.path === '') {
    throw invalid(`cutover-package.json: migrations: must name a folder inside the package${checked.ok ? '' : ` (${checked.reason})`}`);
  }
  const dir = join(root, checked.path);
  const stats = await stat(dir).catch(() => undefined);
  if (!stats) {
    if (declared) throw invalid(`cutover-package.json: migrations: folder "${folder}" not found in the package`);
    return;
  }
  if (!stats.isDirectory()) throw invalid(`cutover-package.json: migrations: "${folder}" is a file, not a folder`);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const where = `${checked.path}/${entry.name}`;
    if (!entry.isFile()) throw invalid(`migration "${where}": only .sql files belong in the migrations folder, not folders`);
    if (!MIGRATION_FILE_PATTERN.test(entry.name)) {
      throw invalid(
        `migration "${where}": file name must match ${String(MIGRATION_FILE_PATTERN)} (letters, digits, ".", "_", "-", ending in .sql)`,
      );
    }
    try {
      strictUtf8.decode(await readFile(join(dir, entry.name)));
    } catch {
      throw invalid(`migration "${where}": not valid UTF-8 text`);
    }
  }
}

/** The migrations of a package folder in apply order (name order); none when the folder is absent. */
export async function readMigrationFiles(root: string, folder: string): Promise<Migration[]> {
  const dir = join(root, folder);
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const sqlNames = names.filter((name) => MIGRATION_FILE_PATTERN.test(name)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(sqlNames.map(async (name) => ({ name, sql: await readFile(join(dir, name), 'utf8') })));
}
