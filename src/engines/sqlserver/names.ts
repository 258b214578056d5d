import { EngineError } from '../engine.js';
import { MAX_SYSNAME_LENGTH } from './identifiers.js';

const TEMPORARY_SUFFIX = '__cutover_tmp';
const RESTORE_POINT_SUFFIX = '__cutover_rp';
const PARTIAL_SUFFIX = '_partial';

/** System databases: an operator's URL must point at the application's own database, never at these. */
const RESERVED = new Set(['master', 'model', 'msdb', 'tempdb', 'mssqlsystemresource']);

/** The physical databases behind one logical database; work in progress lives under the _partial names. */
export interface PhysicalNames {
  original: string;
  temporary: string;
  temporaryPartial: string;
  restorePoint: string;
  restorePointPartial: string;
}

export function physicalNames(original: string): PhysicalNames {
  if (original === '') throw new EngineError('invalid-input', 'the connection string names no database (its URL path is empty)');
  if (RESERVED.has(original.toLowerCase())) {
    throw new EngineError('invalid-input', `the connection string names the system database "${original}": point it at the application's own database`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(original)) throw new EngineError('invalid-input', `database name ${JSON.stringify(original)} contains a control character`);
  const names: PhysicalNames = {
    original,
    temporary: original + TEMPORARY_SUFFIX,
    temporaryPartial: original + TEMPORARY_SUFFIX + PARTIAL_SUFFIX,
    restorePoint: original + RESTORE_POINT_SUFFIX,
    restorePointPartial: original + RESTORE_POINT_SUFFIX + PARTIAL_SUFFIX,
  };
  const suffix = TEMPORARY_SUFFIX + PARTIAL_SUFFIX;
  if (names.temporaryPartial.length > MAX_SYSNAME_LENGTH) {
    throw new EngineError(
      'invalid-input',
      `database name "${original}" is ${original.length} characters long; Cutover needs at most ${MAX_SYSNAME_LENGTH - suffix.length} so that "${suffix}" still fits SQL Server's ${MAX_SYSNAME_LENGTH}-character limit`,
    );
  }
  return names;
}
