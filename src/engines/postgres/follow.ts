/**
 * A temporary copy that follows its original until the switch (PostgreSQL logical replication): a publication of the
 * original's tables, a replication slot created together with the snapshot the copy is dumped from, and a subscription
 * on the copy that starts exactly where that snapshot ends (copy_data = false). Everything is named after the original,
 * so that a retry, inspect and the drops find it; a leftover slot would keep the original's WAL forever.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { EngineError, type DatabaseHandle, type HeartbeatFn, type StopFollowingResult } from '../engine.js';
import { secretsOf } from '../connection-secrets.js';
import { connectionStringTo, conninfoTo } from './connection-url.js';
import { databaseExists, dropDatabase } from './databases.js';
import { describeError, sqlStateOf } from './errors.js';
import { withHeartbeat } from '../heartbeat.js';
import type { PhysicalNames } from './names.js';
import { withCutoverDdl } from './read-only.js';
import { syncSequences } from './sequences.js';
import { withConnection } from './session.js';
import { ident, literal } from './sql.js';

/** In the original database. */
const PUBLICATION = 'cutover_follow';
/** In the copy (subscription names are per database). */
const SUBSCRIPTION = 'cutover_follow';

/** Slot names are cluster-wide, lower-case and at most 63 bytes: derived from the original's name. */
export function followSlotName(original: string): string {
  return `cutover_follow_${createHash('sha256').update(original).digest('hex').slice(0, 24)}`;
}

export type FollowSupport = { supported: true } | { supported: false; reason: string };

/** Whether this server and login can make a copy follow; the reason, in the operator's words, when not. */
export async function followSupport(db: DatabaseHandle, admin: pg.Client, names: PhysicalNames): Promise<FollowSupport> {
  const result = await admin.query<{ wal_level: string; superuser: boolean; slots: number; senders: number; workers: number }>(
    `select current_setting('wal_level') as wal_level,
            coalesce((select rolsuper from pg_roles where rolname = current_user), false) as superuser,
            current_setting('max_replication_slots')::int - (select count(*) from pg_replication_slots where slot_name <> $1)::int as slots,
            current_setting('max_wal_senders')::int
              - (select count(*) from pg_stat_activity where backend_type = 'walsender')::int as senders,
            current_setting('max_logical_replication_workers')::int
              - (select count(*) from pg_subscription where subenabled and subslotname is distinct from $1::name)::int as workers`,
    [followSlotName(names.original)],
  );
  const s = result.rows[0]!;
  if (s.wal_level !== 'logical') {
    return {
      supported: false,
      reason: `the server runs with wal_level=${s.wal_level}; following needs wal_level=logical (postgresql.conf, then a restart)`,
    };
  }
  if (!s.superuser) {
    return {
      supported: false,
      reason:
        `the login of ${db.config.connectionEnv} is not a superuser; ` +
        'following needs one (publication, replication slot and subscription)',
    };
  }
  if (s.slots < 1) return { supported: false, reason: 'the server has no free replication slot (raise max_replication_slots)' };
  if (s.senders < 1) return { supported: false, reason: 'the server has no free WAL sender (raise max_wal_senders)' };
  if (s.workers < 1)
    return { supported: false, reason: 'the server has no free logical replication worker (raise max_logical_replication_workers)' };
  return { supported: true };
}

/** Tables of the original whose changes can be followed, and those that cannot (with why): decided by the catalog. */
const TABLES = `
  select format('%I.%I', n.nspname, c.relname) as name,
         case when c.relpersistence <> 'p' then 'unlogged'
              when c.relreplident = 'n' then 'replica identity nothing'
              when c.relreplident = 'd' and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisprimary)
                then 'no primary key or replica identity'
              when c.relreplident = 'i' and not exists (select 1 from pg_index i where i.indrelid = c.oid and i.indisreplident)
                then 'replica identity index missing'
         end as why_not
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
   where c.relkind = 'r' and n.nspname <> 'information_schema' and n.nspname not like 'pg\\_%'
   order by 1`;

/**
 * The publication lists only tables with a replica identity: in a publication, a table without one would make the
 * live application's UPDATE and DELETE fail. The others keep their content as of the copy, and are reported.
 */
async function publish(original: pg.Client): Promise<string[]> {
  const tables = (await original.query<{ name: string; why_not: string | null }>(TABLES)).rows;
  const followed = tables.filter((t) => t.why_not === null).map((t) => t.name);
  await original.query(`drop publication if exists ${PUBLICATION}`);
  await original.query(`create publication ${PUBLICATION}${followed.length ? ` for table ${followed.join(', ')}` : ''}`);
  return tables.filter((t) => t.why_not !== null).map((t) => `${t.name} (${t.why_not})`);
}

/** A replication slot and the snapshot it starts from; the snapshot lives while `connection` stays open and idle. */
export interface FollowStart {
  snapshot: string;
  notFollowed: string[];
  /** Ends the replication connection: call once the dump has imported the snapshot (or failed). */
  close(): Promise<void>;
}

/**
 * Publication, then slot (decoding needs the publication to exist from the slot's start on). Creating a slot waits
 * for every transaction open on the server to end: after `timeoutMs` it gives up, names them, and the copy is a snapshot.
 */
export async function startFollowing(
  db: DatabaseHandle,
  admin: pg.Client,
  names: PhysicalNames,
  heartbeat: HeartbeatFn,
  timeoutMs: number,
): Promise<FollowStart | { reason: string }> {
  const notFollowed = await withConnection(db, names.original, publish);
  const url = new URL(connectionStringTo(db, names.original));
  url.searchParams.set('replication', 'database');
  const replication = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 10_000, application_name: 'cutover' });
  replication.on('error', () => undefined);
  await replication.connect();
  let timedOut = false;
  let blockers = '';
  try {
    const pid = Number((await replication.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]?.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      void (async () => {
        blockers = await openTransactions(admin, pid).catch(() => 'transactions still open');
        await admin.query('select pg_terminate_backend($1)', [pid]);
      })().catch(() => undefined);
    }, timeoutMs);
    try {
      const created = await withHeartbeat(
        heartbeat,
        () => ({ step: 'follow-start' }),
        () =>
          replication.query<{ snapshot_name: string }>(
            `CREATE_REPLICATION_SLOT ${ident(followSlotName(names.original))} LOGICAL pgoutput EXPORT_SNAPSHOT`,
          ),
      );
      // Made just as the time ran out: the connection, and with it the snapshot, is being ended.
      if (timedOut) throw new Error('timed out');
      return { snapshot: created.rows[0]!.snapshot_name, notFollowed, close: () => replication.end().catch(() => undefined) };
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    await replication.end().catch(() => undefined);
    await stopFollowingOnOriginal(db, admin, names);
    if (timedOut) {
      const seconds = Math.round(timeoutMs / 1000);
      return { reason: `transactions open on the server kept the copy from starting to follow within ${seconds} s (${blockers})` };
    }
    // A slot limit reached meanwhile, or rights the checks above could not see: a snapshot then, never a failed deployment.
    if (['53400', '42501', '55000'].includes(sqlStateOf(error) ?? '')) return { reason: describeError(error, secretsOf(db)) };
    throw error;
  }
}

/** Who holds a transaction open (and so keeps a slot from starting), for the operator. */
async function openTransactions(admin: pg.Client, except: number): Promise<string> {
  const result = await admin.query<{ who: string | null }>(
    `select string_agg(format('pid %s %s as %s on %s since %s', pid, coalesce(nullif(application_name, ''), '(unnamed)'), usename,
                              datname, to_char(xact_start, 'HH24:MI:SS')), ', ') as who
       from pg_stat_activity where backend_xid is not null and pid <> $1 and pid <> pg_backend_pid()`,
    [except],
  );
  return result.rows[0]?.who ?? 'transactions that have just ended';
}

/**
 * The subscription, created disabled in the copy while it is still under its _partial name (a running subscription
 * would keep the rename from happening); enabled once renamed. The slot already holds every change since the snapshot.
 * The server connects to itself with the admin login's URL: when it cannot, the copy stays a snapshot.
 */
export async function subscribe(db: DatabaseHandle, database: string, names: PhysicalNames): Promise<{ reason: string } | undefined> {
  const statement = `create subscription ${SUBSCRIPTION} connection ${literal(conninfoTo(db, names.original))} publication ${PUBLICATION}
    with (copy_data = false, create_slot = false, slot_name = ${literal(followSlotName(names.original))}, enabled = false)`;
  try {
    await withConnection(db, database, (copy) => withCutoverDdl(copy, () => copy.query(statement)));
    return undefined;
  } catch (error) {
    if (sqlStateOf(error)?.startsWith('08')) {
      const why = describeError(error, secretsOf(db));
      return { reason: `the server cannot connect to itself with the URL of ${db.config.connectionEnv}: ${why}` };
    }
    throw error;
  }
}

/** Starts (or resumes) applying the original's changes on the copy. */
export async function enableSubscription(db: DatabaseHandle, database: string): Promise<void> {
  await withConnection(db, database, (copy) => withCutoverDdl(copy, () => copy.query(`alter subscription ${SUBSCRIPTION} enable`)));
}

export interface SubscriptionState {
  enabled: boolean;
}

/** The copy's subscription, read from the shared catalog (no connection to the copy needed). */
export async function subscriptionIn(admin: pg.Client, database: string): Promise<SubscriptionState | undefined> {
  const result = await admin.query<{ enabled: boolean }>(
    'select s.subenabled as enabled from pg_subscription s join pg_database d on d.oid = s.subdbid where d.datname = $1 and s.subname = $2',
    [database, SUBSCRIPTION],
  );
  return result.rows[0];
}

/** Ends the subscription without touching the slot (slot_name = none): one transaction, so it is all or nothing. */
async function unsubscribe(db: DatabaseHandle, admin: pg.Client, database: string): Promise<void> {
  if (!(await subscriptionIn(admin, database))) return;
  await withConnection(db, database, (copy) =>
    withCutoverDdl(copy, async () => {
      await copy.query(`alter subscription ${SUBSCRIPTION} disable`);
      await copy.query(`alter subscription ${SUBSCRIPTION} set (slot_name = none)`);
      await copy.query(`drop subscription ${SUBSCRIPTION}`);
    }),
  );
}

/** How long a slot may stay in use by its WAL sender after the subscription ended, before the drop gives up. */
const SLOT_RELEASE_MS = 15_000;

/** Drops the slot, ending the WAL sender that still uses it (ours: nothing else uses this name). */
async function dropSlot(admin: pg.Client, slot: string): Promise<void> {
  const deadline = Date.now() + SLOT_RELEASE_MS;
  for (;;) {
    const found = await admin.query<{ pid: number | null }>('select active_pid as pid from pg_replication_slots where slot_name = $1', [
      slot,
    ]);
    const row = found.rows[0];
    if (!row) return;
    try {
      if (row.pid === null) {
        await admin.query('select pg_drop_replication_slot($1)', [slot]);
        return;
      }
      await admin.query('select pg_terminate_backend($1)', [row.pid]);
    } catch (error) {
      // In use again, or dropped meanwhile: look again.
      if (!['55006', '42704'].includes(sqlStateOf(error) ?? '')) throw error;
    }
    if (Date.now() > deadline) throw new EngineError('transient', `replication slot ${slot} is still in use; try again`);
    await sleep(100);
  }
}

/** Slot and publication on the original: what holds its WAL and marks its tables. Idempotent. */
export async function stopFollowingOnOriginal(db: DatabaseHandle, admin: pg.Client, names: PhysicalNames): Promise<void> {
  await dropSlot(admin, followSlotName(names.original));
  if (await databaseExists(admin, names.original)) {
    await withConnection(db, names.original, (original) => original.query(`drop publication if exists ${PUBLICATION}`));
  }
}

/** Drops a copy and whatever makes it follow (a database with a subscription cannot be dropped). */
export async function dropFollowingCopy(db: DatabaseHandle, admin: pg.Client, database: string): Promise<void> {
  if (await databaseExists(admin, database)) await unsubscribe(db, admin, database);
  await dropDatabase(admin, database);
}

export interface CatchUp {
  caughtUp: boolean;
  waitedMs: number;
  lagBytes: number;
}

/**
 * The end of a record written now, so after every commit acknowledged so far: pg_current_wal_lsn() can be short of
 * such a commit (with synchronous_commit off it may not be written out yet), and the copy would be called caught up early.
 */
const STOP_MARK = "select pg_logical_emit_message(false, 'cutover', 'stop following')::text as lsn";

/** Waits until the copy confirmed every change the original had written when the wait began, or timeoutMs passed. */
async function waitForCatchUp(admin: pg.Client, slot: string, timeoutMs: number, heartbeat: HeartbeatFn): Promise<CatchUp> {
  const target = (await admin.query<{ lsn: string }>(STOP_MARK)).rows[0]!.lsn;
  const started = Date.now();
  let lagBytes = 0;
  return withHeartbeat(
    heartbeat,
    () => ({ step: 'stop-following', lagBytes }),
    async () => {
      for (let pause = 20; ; pause = Math.min(pause * 2, 250)) {
        const found = await admin.query<{ behind: string | null }>(
          'select pg_wal_lsn_diff($1::pg_lsn, confirmed_flush_lsn)::text as behind from pg_replication_slots where slot_name = $2',
          [target, slot],
        );
        const behind = found.rows[0]?.behind;
        lagBytes = behind === null || behind === undefined ? 0 : Math.max(0, Number(behind));
        const waitedMs = Date.now() - started;
        if (behind !== undefined && behind !== null && lagBytes === 0) return { caughtUp: true, waitedMs, lagBytes };
        if (behind === undefined || waitedMs >= timeoutMs) return { caughtUp: false, waitedMs, lagBytes };
        await sleep(pause);
      }
    },
  );
}

/** How long a stop waits for the copy to catch up, unless told otherwise. */
export const DEFAULT_STOP_TIMEOUT_MS = 30_000;

/** Whether anything of a following is there: a slot on the original, or a subscription in the copy. */
export async function followsOriginal(admin: pg.Client, names: PhysicalNames): Promise<boolean> {
  const slot = await admin.query('select 1 from pg_replication_slots where slot_name = $1', [followSlotName(names.original)]);
  return (slot.rowCount ?? 0) > 0 || (await subscriptionIn(admin, names.temporary)) !== undefined;
}

/**
 * Stops following for good: waits for the copy to catch up (a disabled subscription is not waited for), ends the
 * subscription, drops slot and publication, then brings the copy's sequences level. Idempotent: what an earlier
 * attempt already removed is skipped. The caller holds the operation lock.
 */
export async function endFollowing(
  db: DatabaseHandle,
  admin: pg.Client,
  names: PhysicalNames,
  heartbeat: HeartbeatFn,
  timeoutMs: number,
): Promise<StopFollowingResult> {
  const copyExists = await databaseExists(admin, names.temporary);
  const subscription = copyExists ? await subscriptionIn(admin, names.temporary) : undefined;
  let catchUp: CatchUp = { caughtUp: false, waitedMs: 0, lagBytes: 0 };
  if (subscription) {
    catchUp = await waitForCatchUp(admin, followSlotName(names.original), subscription.enabled ? timeoutMs : 0, heartbeat);
    await unsubscribe(db, admin, names.temporary);
  }
  await stopFollowingOnOriginal(db, admin, names);
  const sequencesSynced = copyExists ? await syncSequences(db, names) : 0;
  return { ...catchUp, wasFollowing: subscription?.enabled === true, sequencesSynced };
}
