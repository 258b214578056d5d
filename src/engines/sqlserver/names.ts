import { EngineError } from '../engine.js';
import { LONGEST_SUFFIX, namesFor, type PhysicalNames } from '../physical-names.js';

export type { PhysicalNames };
import { MAX_SYSNAME_LENGTH } from './identifiers.js';

/** System databases: an operator's URL must point at the application's own database, never at these. */
const RESERVED = new Set(['master', 'model', 'msdb', 'tempdb', 'mssqlsystemresource']);

export function physicalNames(original: string): PhysicalNames {
  if (original === '') throw new EngineError('invalid-input', 'the connection string names no database (its URL path is empty)');
  if (RESERVED.has(original.toLowerCase())) {
    throw new EngineError(
      'invalid-input',
      `the connection string names the system database "${original}": point it at the application's own database`,
    );
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(original))
    throw new EngineError('invalid-input', `database name ${JSON.stringify(original)} contains a control character`);
  const names = namesFor(original);
  const suffix = LONGEST_SUFFIX;
  if (names.temporaryPartial.length > MAX_SYSNAME_LENGTH) {
    throw new EngineError(
      'invalid-input',
      `database name "${original}" is ${original.length} characters long; Cutover needs at most ${MAX_SYSNAME_LENGTH - suffix.length} ` +
        `so that "${suffix}" still fits SQL Server's ${MAX_SYSNAME_LENGTH}-character limit`,
    );
  }
  return names;
}
