import { quoteName } from '../identifiers.js';
import type { SqlStatement } from '../session.js';

/** State of each named database that exists: ONLINE, RESTORING, COPYING, SUSPECT…; whether read-only; whether a snapshot. */
export function databaseStatesQuery(names: readonly string[]): SqlStatement {
  const params: Record<string, string> = {};
  names.forEach((name, i) => (params[`name${i}`] = name));
  return {
    text:
      'SELECT name, state_desc AS state, CAST(is_read_only AS int) AS readOnly, ' +
      'CASE WHEN source_database_id IS NULL THEN 0 ELSE 1 END AS snapshot ' +
      `FROM sys.databases WHERE name IN (${names.map((_, i) => `@name${i}`).join(', ')});`,
    params,
  };
}

/**
 * DROP DATABASE; with force, first SINGLE_USER WITH ROLLBACK IMMEDIATE in the same batch, so that a leftover
 * session (a clone that was not stopped cleanly) cannot keep a temporary copy alive.
 */
export function dropDatabase(name: string, options: { force: boolean }): SqlStatement {
  const quoted = quoteName(name);
  return {
    text: options.force
      ? `ALTER DATABASE ${quoted} SET SINGLE_USER WITH ROLLBACK IMMEDIATE;\nDROP DATABASE ${quoted};`
      : `DROP DATABASE ${quoted};`,
  };
}

export function renameDatabase(from: string, to: string): SqlStatement {
  return { text: `ALTER DATABASE ${quoteName(from)} MODIFY NAME = ${quoteName(to)};` };
}

/** Run on the database itself: who else is connected to it (a login sees its own sessions, or all with VIEW SERVER STATE). */
export const otherSessionsQuery: SqlStatement = {
  text:
    "SELECT COALESCE(NULLIF(program_name, N''), N'(unnamed)') AS program, login_name AS login " +
    'FROM sys.dm_exec_sessions WHERE database_id = DB_ID() AND session_id <> @@SPID AND is_user_process = 1;',
};
