/**
 * Logical replication carries rows, not sequences: a copy that followed its original has the rows with the newest
 * keys but sequences as of its snapshot. After following stops, each sequence of the copy is moved to the original's
 * value (never back: the copy may have used some itself), so that keys the copy generates never collide.
 */
import type { DatabaseHandle } from '../engine.js';
import type { PhysicalNames } from './names.js';
import { withConnection } from './session.js';

interface SequenceValue {
  schemaname: string;
  sequencename: string;
  last_value: string;
}

/** Sequences of the application's schemas that have handed out a value (last_value is null before the first). */
const USED_SEQUENCES = `
  select schemaname, sequencename, last_value::text from pg_sequences
   where last_value is not null and schemaname <> 'information_schema' and schemaname not like 'pg\\_%'`;

/** One statement on the receiving database: each sequence present there goes to the further of its value and the other's. */
const ADVANCE = `
  select count(setval(format('%I.%I', s.schemaname, s.sequencename)::regclass,
                      case when s.increment_by > 0 then greatest(o.last_value, coalesce(s.last_value, o.last_value))
                           else least(o.last_value, coalesce(s.last_value, o.last_value)) end,
                      true))::int as synced
    from jsonb_to_recordset($1::jsonb) as o(schemaname text, sequencename text, last_value bigint)
    join pg_sequences s on s.schemaname = o.schemaname and s.sequencename = o.sequencename`;

/** Moves the copy's sequences up to the original's; returns how many it set. Idempotent. */
export function syncSequences(db: DatabaseHandle, names: PhysicalNames): Promise<number> {
  return levelSequences(db, names.original, names.temporary);
}

/** Moves the sequences of database `to` up to those of database `from` (never back); returns how many it set. Idempotent. */
export async function levelSequences(db: DatabaseHandle, from: string, to: string): Promise<number> {
  const values = await withConnection(db, from, async (source) => (await source.query<SequenceValue>(USED_SEQUENCES)).rows);
  if (values.length === 0) return 0;
  return withConnection(db, to, async (target) => {
    // The copy may be read-only by default; setval is no write the guards refuse.
    await target.query('begin read write');
    try {
      const result = await target.query<{ synced: number }>(ADVANCE, [JSON.stringify(values)]);
      await target.query('commit');
      return result.rows[0]?.synced ?? 0;
    } catch (error) {
      await target.query('rollback').catch(() => undefined);
      throw error;
    }
  });
}
