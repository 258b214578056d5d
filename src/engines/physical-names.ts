/**
 * The physical databases behind one logical database, the same for every engine: resume finds an earlier
 * deployment's temporary copy and restore point by these names. Work in progress lives under the _partial names.
 */
const TEMPORARY_SUFFIX = '__cutover_tmp';
const RESTORE_POINT_SUFFIX = '__cutover_rp';
const PARTIAL_SUFFIX = '_partial';

export interface PhysicalNames {
  original: string;
  temporary: string;
  temporaryPartial: string;
  restorePoint: string;
  restorePointPartial: string;
}

/** The longest suffix Cutover adds: engines check that the original name leaves room for it. */
export const LONGEST_SUFFIX = TEMPORARY_SUFFIX + PARTIAL_SUFFIX;

export function namesFor(original: string): PhysicalNames {
  return {
    original,
    temporary: original + TEMPORARY_SUFFIX,
    temporaryPartial: original + TEMPORARY_SUFFIX + PARTIAL_SUFFIX,
    restorePoint: original + RESTORE_POINT_SUFFIX,
    restorePointPartial: original + RESTORE_POINT_SUFFIX + PARTIAL_SUFFIX,
  };
}
