import { EngineError } from '../engine.js';

/** sysname: the longest identifier SQL Server accepts (QUOTENAME returns NULL beyond it). */
export const MAX_SYSNAME_LENGTH = 128;

/** A NUL would end the text early in some server paths: such a name or value means two different things. */
function refuseNul(text: string, what: string): void {
  if (text.includes('\u0000')) throw new EngineError('invalid-input', `${what} contains a NUL character`);
}

/**
 * QUOTENAME semantics: `[` + name with every `]` doubled + `]`. Every database, file and object name
 * Cutover sends goes through here, so nothing from config or packages reaches SQL unquoted.
 */
export function quoteName(name: string): string {
  if (name.length === 0) throw new EngineError('invalid-input', 'an identifier cannot be empty');
  if (name.length > MAX_SYSNAME_LENGTH) {
    throw new EngineError(
      'invalid-input',
      `identifier "${name.slice(0, 40)}…" is ${name.length} characters long; SQL Server allows at most ${MAX_SYSNAME_LENGTH}`,
    );
  }
  refuseNul(name, 'an identifier');
  return `[${name.replace(/]/g, ']]')}]`;
}

/** A Unicode string literal, N'...' with every `'` doubled: for the statements that take no parameters (BACKUP, RESTORE, CREATE DATABASE). */
export function unicodeLiteral(value: string): string {
  refuseNul(value, 'a string literal');
  return `N'${value.replace(/'/g, "''")}'`;
}
