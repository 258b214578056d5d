import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Migration, MigrationPhase } from '../engines/engine.js';
import { PackageError } from './errors.js';
import { checkPackagePath } from './paths.js';

/** Names that sort into apply order and are safe in any engine's history table. */
export const MIGRATION_FILE_PATTERN = /^[0-9A-Za-z._-]+\.sql$/;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function invalid(message: string): PackageError {
  return new PackageError('invalid-migrations', message);
}

/** Subfolders of the migrations folder for expand/contract migrations (docs/data-safety.md). */
export const PHASE_FOLDERS: readonly MigrationPhase[] = ['expand', 'contract'];
/** expand/<name>.undo.sql reverts expand/<name>.sql when the old version fails on the expanded schema. */
export const UNDO_SUFFIX = '.undo.sql';

const isPhaseFolder = (name: string): name is MigrationPhase => (PHASE_FOLDERS as readonly string[]).includes(name);
const undoneBy = (undoName: string) => `${undoName.slice(0, -UNDO_SUFFIX.length)}.sql`;

/** One .sql file with a safe name, in UTF-8 (a misnamed file would otherwise be silently skipped). */
async function checkMigrationFile(dir: string, where: string, name: string): Promise<void> {
  if (!MIGRATION_FILE_PATTERN.test(name)) {
    throw invalid(
      `migration "${where}": file name must match ${String(MIGRATION_FILE_PATTERN)} (letters, digits, ".", "_", "-", ending in .sql)`,
    );
  }
  try {
    strictUtf8.decode(await readFile(join(dir, name)));
  } catch {
    throw invalid(`migration "${where}": not valid UTF-8 text`);
  }
}

/** A migration's name is its key in the database's history: one name, one place in the package. */
function claim(seen: Map<string, string>, name: string, where: string): void {
  const other = seen.get(name);
  if (other)
    throw invalid(`migration "${where}": ${other} has the same name; a name is the migration's key in the history, so each must be unique`);
  seen.set(name, where);
}

async function checkPhaseFolder(dir: string, folderPath: string, phase: MigrationPhase, seen: Map<string, string>): Promise<void> {
  const undos: string[] = [];
  const names = new Set<string>();
  for (const entry of await readdir(join(dir, phase), { withFileTypes: true })) {
    const where = `${folderPath}/${phase}/${entry.name}`;
    if (!entry.isFile()) throw invalid(`migration "${where}": only .sql files belong in the ${phase} folder, not folders`);
    await checkMigrationFile(join(dir, phase), where, entry.name);
    if (entry.name.endsWith(UNDO_SUFFIX)) {
      if (phase !== 'expand')
        throw invalid(`migration "${where}": undo scripts belong in the expand folder only (a contract migration is never undone)`);
      undos.push(entry.name);
    } else {
      names.add(entry.name);
      claim(seen, entry.name, where);
    }
  }
  for (const undo of undos) {
    if (!names.has(undoneBy(undo)))
      throw invalid(`migration "${folderPath}/${phase}/${undo}": undoes ${undoneBy(undo)}, which is not in the expand folder`);
  }
}

/**
 * Checks the migrations folder of a staged package: every entry must be a `*.sql` file with a safe name in UTF-8, or
 * one of the folders expand/ and contract/ holding the same; names are unique across them. A folder named explicitly by
 * the manifest must exist; the default one may be absent (no migrations).
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
  const seen = new Map<string, string>();
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries.filter((e) => !(e.isDirectory() && isPhaseFolder(e.name)))) {
    const where = `${checked.path}/${entry.name}`;
    if (!entry.isFile())
      throw invalid(`migration "${where}": only .sql files belong in the migrations folder, and the folders expand/ and contract/`);
    await checkMigrationFile(dir, where, entry.name);
    claim(seen, entry.name, where);
  }
  for (const phase of PHASE_FOLDERS) {
    if (entries.some((e) => e.isDirectory() && e.name === phase)) await checkPhaseFolder(dir, checked.path, phase, seen);
  }
}

async function sqlFiles(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return [];
    throw error;
  });
  return names.filter((name) => MIGRATION_FILE_PATTERN.test(name));
}

/**
 * The migrations of a package folder in apply order (name order, whatever their phase); none when the folder is absent.
 * Those of expand/ and contract/ carry their phase; an expand migration carries its undo script when it has one.
 */
export async function readMigrationFiles(root: string, folder: string): Promise<Migration[]> {
  const dir = join(root, folder);
  const read = (path: string) => readFile(path, 'utf8');
  const plain = await Promise.all(
    (await sqlFiles(dir)).map(async (name): Promise<Migration> => ({ name, sql: await read(join(dir, name)) })),
  );
  const phased = await Promise.all(
    PHASE_FOLDERS.map(async (phase) => {
      const names = await sqlFiles(join(dir, phase));
      const undos = new Set(names.filter((n) => n.endsWith(UNDO_SUFFIX)).map(undoneBy));
      const forward = phase === 'expand' ? names.filter((n) => !n.endsWith(UNDO_SUFFIX)) : names;
      return Promise.all(
        forward.map(async (name): Promise<Migration> => {
          const sql = await read(join(dir, phase, name));
          if (!undos.has(name)) return { name, sql, phase };
          return { name, sql, phase, undo: await read(join(dir, phase, `${name.slice(0, -'.sql'.length)}${UNDO_SUFFIX}`)) };
        }),
      );
    }),
  );
  return [...plain, ...phased.flat()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
