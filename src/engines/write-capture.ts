/**
 * readwrite-replay (docs/data-safety.md): the temporary copy accepts writes, which are captured there and replayed onto
 * the migrated original, so that nothing the clone accepted is lost. The engine-neutral shapes of that contract.
 */

/** How far ahead of the original the copy's sequences move when capture starts, unless told otherwise. */
export const DEFAULT_SEQUENCE_GAP = 1_000_000_000;

export interface CaptureOptions {
  /**
   * Keys the copy generates start this far past the original's (1,000,000,000 by default): the original may generate
   * that many keys meanwhile (the preview) before one could collide with a key the copy generated.
   */
  sequenceGap?: number;
}

/** What startCapture set up on the temporary copy. */
export interface CaptureResult {
  /** Names this capture; replay progress on the original is kept under it, so a new copy starts afresh. */
  captureId: string;
  /** Tables whose row changes are captured. */
  tables: number;
  /** Sequences of the copy moved ahead of the original's by this call (0 when an earlier call already did). */
  sequencesMoved: number;
  /** The gap asked for. */
  sequenceGap: number;
  /** Sequences too close to their limit for the full gap, each with the gap it got (set only when there are some). */
  narrowGaps?: string[];
}

export type CapturedOperation = 'insert' | 'update' | 'delete' | 'truncate';

/** A captured change that was not applied onto the original; it is kept there, whole, for the operator. */
export interface ReplayConflict {
  /** schema.table as the copy names it. */
  table: string;
  /** The row's primary key on the copy (null for a truncate). */
  key: Record<string, unknown> | null;
  op: CapturedOperation;
  /** Why it does not fit: the table or a column is gone, a constraint refuses it, the row exists or is gone. */
  reason: string;
}

export interface ReplayOptions {
  /** How long to wait for transactions on the copy whose changes are not committed yet (30 s by default). */
  writersTimeoutMs?: number;
  /** Changes applied per transaction on the original (500 by default). */
  batchSize?: number;
  /**
   * The copy takes no more writes (the switch, or a Reset): the original's sequences then move past the copy's. Never
   * before: the original would then hand out the very keys the copy hands out next, and their changes would conflict.
   */
  final?: boolean;
}

/** What replayChanges did in this call, and since capture started. */
export interface ReplayResult {
  /** Changes applied onto the original by this call. */
  applied: number;
  /** This call's conflicts, the first CONFLICTS_LISTED of them; every one is stored in the original. */
  conflicts: ReplayConflict[];
  /** How many conflicts this call had (conflicts may list fewer). */
  conflictCount: number;
  /** Since capture started, over every call: a Reset that restores the original starts these from zero again. */
  total: { applied: number; conflicts: number };
  /** Sequences of the original moved up to the copy's values (final replays only; 0 otherwise). */
  sequencesSynced: number;
}

/** A result goes into workflow history: the list is capped, the count is not. */
export const CONFLICTS_LISTED = 100;
