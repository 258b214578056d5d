/**
 * While the copy accepts writes (readwrite-replay), the original generates keys too (the preview). Each sequence of the
 * copy starts a gap past the original's, so that the two hand out different keys until the original has used up the gap;
 * replay then finds no key taken twice. Computed from the original's value, so a second call moves nothing again.
 */
import type pg from 'pg';

interface SequenceState {
  schemaname: string;
  sequencename: string;
  start_value: string;
  min_value: string;
  max_value: string;
  increment_by: string;
  last_value: string | null;
}

const SEQUENCES = `
  select schemaname, sequencename, start_value::text, min_value::text, max_value::text, increment_by::text, last_value::text
    from pg_sequences
   where schemaname <> 'information_schema' and schemaname not like 'pg\\_%' and schemaname not like 'cutover\\_%'`;

export interface GapResult {
  moved: number;
  /** "schema.sequence: gap N (its limit is near)" for each sequence that got less than the gap asked for. */
  narrow: string[];
}

const max = (a: bigint, b: bigint) => (a > b ? a : b);
const min = (a: bigint, b: bigint) => (a < b ? a : b);

/** Where the copy's sequence should be at least, and the gap it gets; undefined when the original has no such sequence. */
function targetOf(copy: SequenceState, original: SequenceState | undefined, gap: bigint): { value: bigint; gap: bigint } | undefined {
  if (!original) return undefined; // no key the original generates can collide through it
  const step = BigInt(copy.increment_by);
  const up = step > 0n;
  // The value last handed out, or the one before the first when none was.
  const reached = original.last_value === null ? BigInt(original.start_value) - step : BigInt(original.last_value);
  const room = up ? BigInt(copy.max_value) - reached : reached - BigInt(copy.min_value);
  const granted = max(0n, min(gap, room / 2n));
  return { value: up ? reached + granted : reached - granted, gap: granted };
}

/**
 * Moves every sequence of the copy (client in a transaction) a gap past the original's value (`original` lists the
 * original's sequences); never moves one back. Returns how many it moved and which got a narrower gap.
 */
export async function moveSequencesAhead(copy: pg.Client, original: pg.Client, gap: number): Promise<GapResult> {
  const originals = new Map(
    (await original.query<SequenceState>(SEQUENCES)).rows.map((s) => [`${s.schemaname}.${s.sequencename}`, s] as const),
  );
  const result: GapResult = { moved: 0, narrow: [] };
  for (const s of (await copy.query<SequenceState>(SEQUENCES)).rows) {
    const target = targetOf(s, originals.get(`${s.schemaname}.${s.sequencename}`), BigInt(gap));
    if (!target) continue;
    if (target.gap < BigInt(gap)) result.narrow.push(`${s.schemaname}.${s.sequencename}: gap ${target.gap} (its limit is near)`);
    const up = BigInt(s.increment_by) > 0n;
    const current = s.last_value === null ? undefined : BigInt(s.last_value);
    const behind = current === undefined || (up ? current < target.value : current > target.value);
    if (!behind || target.gap === 0n) continue;
    await copy.query(`select setval(format('%I.%I', $1::text, $2::text)::regclass, $3::bigint, true)`, [
      s.schemaname,
      s.sequencename,
      target.value.toString(),
    ]);
    result.moved++;
  }
  return result;
}
