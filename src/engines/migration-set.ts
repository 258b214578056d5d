/** A package's migrations as every engine reads them: valid names, each listed once, applied in byte order, checksummed. */
import { createHash } from 'node:crypto';
import { EngineError, type Migration, type MigrationOptions } from './engine.js';

const MIGRATION_NAME = /^[0-9A-Za-z._-]+\.sql$/;

export const checksumOf = (sql: string): string => createHash('sha256').update(sql, 'utf8').digest('hex');

/** Name order is byte order, so that every machine agrees whatever its locale. */
export const byName = (a: Migration, b: Migration) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/** Refuses a name that is not a plain .sql file name, or one listed twice, before anything is applied. */
export function checkMigrationNames(migrations: readonly Migration[]): void {
  const seen = new Set<string>();
  for (const { name } of migrations) {
    if (!MIGRATION_NAME.test(name)) {
      throw new EngineError(
        'invalid-input',
        `migration name ${JSON.stringify(name)} is not valid: use letters, digits, ".", "_" and "-", ending in .sql`,
      );
    }
    if (seen.has(name)) throw new EngineError('invalid-input', `migration ${name} is listed twice`);
    seen.add(name);
  }
}

/** Expand/contract mode applies one phase at a time; the rest stay pending (or are checked, when applied). */
export function dueMigrations<M extends Migration>(
  ordered: readonly M[],
  recorded: ReadonlyMap<string, string>,
  options: MigrationOptions,
): M[] {
  return ordered.filter((m) => options.phase === undefined || m.phase === options.phase || recorded.has(m.name));
}
