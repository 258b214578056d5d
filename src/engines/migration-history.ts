/** How a package's migrations must agree with a database's history, the same on every engine (as Flyway's validate). */
import { EngineError, type MigrationOptions } from './engine.js';

/** Missing migrations named in a refusal; the rest are counted. */
const NAMED_AT_MOST = 10;

const byteOrder = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export function changedAfterApplied(name: string, recorded: string, now: string): EngineError {
  return new EngineError(
    'migration-failed',
    `migration ${name} was changed after it was applied (checksum recorded ${recorded.slice(0, 12)}…, ` +
      `now ${now.slice(0, 12)}…): add a new migration instead of editing an applied one`,
  );
}

function missingFromPackage(missing: string[]): EngineError {
  const shown = missing.slice(0, NAMED_AT_MOST).join(', ');
  const named = missing.length > NAMED_AT_MOST ? `${shown} and ${missing.length - NAMED_AT_MOST} more` : shown;
  const what = missing.length === 1 ? 'migration' : `${missing.length} migrations`;
  return new EngineError(
    'migration-failed',
    `the database already applied ${what} ${named} that this package does not have (a package older than the database?); ` +
      'nothing was applied. Deploy a package that has them, or, to roll an older package forward on purpose, allow missing migrations: ' +
      'allowMissingMigrations in the request (cutover deploy --allow-missing-migrations) ' +
      "or migrations: { allowMissing: true } in the environment's configuration",
  );
}

/**
 * Checked before anything is applied: an applied migration edited since is refused, and so is a package that lacks
 * migrations the database applied, unless allowed. Returns those missing ones (allowed), in name order.
 */
export function checkAgainstHistory(
  recorded: ReadonlyMap<string, string>,
  migrations: ReadonlyArray<{ name: string; checksum: string }>,
  options: MigrationOptions = {},
): string[] {
  for (const m of migrations) {
    const previous = recorded.get(m.name);
    if (previous !== undefined && previous !== m.checksum) throw changedAfterApplied(m.name, previous, m.checksum);
  }
  return missingFrom([...recorded.keys()], migrations, options);
}

/** The applied migrations this package lacks, refused unless allowed; by name only (preflight has no checksums). */
export function missingFrom(
  applied: readonly string[],
  migrations: ReadonlyArray<{ name: string }>,
  options: MigrationOptions = {},
): string[] {
  const inPackage = new Set(migrations.map((m) => m.name));
  const missing = applied.filter((name) => !inPackage.has(name)).sort(byteOrder);
  if (missing.length > 0 && options.allowMissing !== true) throw missingFromPackage(missing);
  return missing;
}
