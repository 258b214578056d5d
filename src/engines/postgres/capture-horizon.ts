/**
 * Change ids are handed out when a change is made, not when it commits: a transaction still open can hold an id below
 * one already committed. Replay progress is a single "applied up to" id, so replay may only go up to an id below which
 * no change can still appear. That horizon: the last id handed out, once every transaction that may hold one has ended.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { EngineError } from '../engine.js';
import { CHANGES, CHANGES_SEQUENCE } from './capture.js';

/**
 * Transactions that have written into the change table hold its ROW EXCLUSIVE lock until they end, taken before their
 * first id (the lock comes with the statement, the id with its execution). Prepared transactions (2PC) hold it under a
 * new virtual transaction id, so every one of them is waited for.
 */
const WRITERS = `
  select l.virtualtransaction as vxid
    from pg_locks l
   where l.locktype = 'relation' and l.relation = '${CHANGES}'::regclass and l.mode = 'RowExclusiveLock' and l.granted
     and l.pid is distinct from pg_backend_pid()
     and l.database = (select oid from pg_database where datname = current_database())`;

const STILL_WRITING = `select count(*)::int as n from (${WRITERS}) w where w.vxid = any($1::text[]) or w.vxid like '-1/%'`;

/** The sessions that keep the horizon back, for the operator. */
const WHO = `
  select string_agg(format('pid %s %s as %s since %s', a.pid, coalesce(nullif(a.application_name, ''), '(unnamed)'), a.usename,
                           to_char(a.xact_start, 'HH24:MI:SS')), ', ') as who
    from pg_stat_activity a
   where a.pid in (select l.pid from pg_locks l where l.virtualtransaction = any($1::text[]))`;

/** The last change id handed out so far (0 before the first). */
async function lastIdHandedOut(copy: pg.Client): Promise<string> {
  const result = await copy.query<{ id: string }>(
    `select case when is_called then last_value else 0 end::text as id from ${CHANGES_SEQUENCE}`,
  );
  return result.rows[0]?.id ?? '0';
}

/**
 * Waits (up to timeoutMs) for the transactions that may hold an id up to the last one handed out, then returns that id:
 * every change up to it is committed or gone for good. Throws a transient error naming the sessions after the timeout.
 */
export async function settledHorizon(copy: pg.Client, timeoutMs: number): Promise<string> {
  // The id first, then the writers: whoever holds an id up to it held the lock before the id was read.
  const horizon = await lastIdHandedOut(copy);
  const writers = (await copy.query<{ vxid: string }>(WRITERS)).rows.map((w) => w.vxid);
  if (writers.length === 0) return horizon;
  const started = Date.now();
  for (let pause = 10; ; pause = Math.min(pause * 2, 200)) {
    const left = (await copy.query<{ n: number }>(STILL_WRITING, [writers])).rows[0]?.n ?? 0;
    if (left === 0) return horizon;
    if (Date.now() - started >= timeoutMs) {
      const who = (await copy.query<{ who: string | null }>(WHO, [writers])).rows[0]?.who ?? 'prepared transactions';
      throw new EngineError(
        'transient',
        `transactions on the temporary copy kept their captured writes uncommitted for more than ${Math.round(timeoutMs / 1000)} s ` +
          `(${who}); replay waits for them, so that no write is skipped`,
      );
    }
    await sleep(pause);
  }
}
