import type pg from 'pg';
import type { CopyResult, DatabaseHandle, HeartbeatFn, StopFollowingOptions, StopFollowingResult } from '../engine.js';
import { copyDatabaseAccess, databaseExists, isSuperuser, ownerOf, renameDatabase, withOperationLock } from './databases.js';
import { dumpAndRestore } from './dump-restore.js';
import {
  DEFAULT_STOP_TIMEOUT_MS,
  dropFollowingCopy,
  endFollowing,
  enableSubscription,
  followSupport,
  startFollowing,
  stopFollowingOnOriginal,
  subscribe,
  subscriptionIn,
} from './follow.js';
import type { PhysicalNames } from './names.js';
import { withMaintenance } from './session.js';
import { ident, literal } from './sql.js';

/**
 * CREATE DATABASE options that give an empty database the original's encoding and locale
 * (read as JSON so that column renames across PostgreSQL versions do not break it).
 */
async function localeOptionsOf(admin: pg.Client, database: string): Promise<string> {
  const result = await admin.query<{ d: Record<string, unknown> }>(
    "select to_jsonb(d) || jsonb_build_object('encoding_name', pg_encoding_to_char(d.encoding)) as d from pg_database d where datname = $1",
    [database],
  );
  const d = result.rows[0]?.d ?? {};
  const text = (key: string) => (typeof d[key] === 'string' && d[key] !== '' ? (d[key] as string) : undefined);
  const options = [`encoding ${literal(text('encoding_name') ?? 'UTF8')}`];
  const [collate, ctype, provider] = [text('datcollate'), text('datctype'), text('datlocprovider')];
  const providerLocale = text('daticulocale') ?? text('datlocale');
  if (collate) options.push(`lc_collate ${literal(collate)}`);
  if (ctype) options.push(`lc_ctype ${literal(ctype)}`);
  if (provider === 'i' && providerLocale) options.push(`locale_provider icu icu_locale ${literal(providerLocale)}`);
  if (provider === 'b' && providerLocale) options.push(`locale_provider builtin builtin_locale ${literal(providerLocale)}`);
  return options.join(' ');
}

/** How the copy is made: following the original when the server allows it, and how long a slot may take to start. */
export interface CopyOptions {
  binDir: string;
  followStartTimeoutMs: number;
}

const snapshot = (reason: string): CopyResult => ({ following: false, snapshotReason: reason });

/**
 * A copy that exists already: a subscription made before a crash is enabled (its slot kept every change since the
 * snapshot); without one, the copy no longer follows, and what would hold the original's WAL is removed.
 */
async function resumeFollowing(db: DatabaseHandle, admin: pg.Client, names: PhysicalNames): Promise<CopyResult> {
  const subscription = await subscriptionIn(admin, names.temporary);
  if (!subscription) {
    await stopFollowingOnOriginal(db, admin, names);
    return snapshot(
      'the temporary copy existed already and does not follow the original (made as a snapshot, or its following was stopped)',
    );
  }
  if (!subscription.enabled) await enableSubscription(db, names.temporary);
  return { following: true };
}

/**
 * Builds the temporary copy under its _partial name and renames it into place only when complete,
 * so that a crash mid-copy leaves a _partial that the retry drops and redoes. When the server allows it, the copy is
 * dumped from the snapshot of a new replication slot and subscribes to the original from there on.
 */
export async function copyToTemporary(
  db: DatabaseHandle,
  names: PhysicalNames,
  options: CopyOptions,
  heartbeat: HeartbeatFn,
): Promise<CopyResult> {
  return withMaintenance(db, (admin) =>
    withOperationLock(admin, names.original, async () => {
      if (await databaseExists(admin, names.temporary)) return resumeFollowing(db, admin, names);
      if (!(await databaseExists(admin, names.original))) throw new Error(`database "${names.original}" does not exist`);
      // What an interrupted copy left: its slot's snapshot is gone with it, so the slot is of no use any more.
      await dropFollowingCopy(db, admin, names.temporaryPartial);
      await stopFollowingOnOriginal(db, admin, names);
      const superuser = await isSuperuser(admin);
      const owner = superuser ? await ownerOf(admin, names.original) : undefined;
      const locale = await localeOptionsOf(admin, names.original);
      await admin.query(
        `create database ${ident(names.temporaryPartial)} template template0 ${locale}${owner ? ` owner ${ident(owner)}` : ''}`,
      );
      let result: CopyResult;
      try {
        await copyDatabaseAccess(admin, names.original, names.temporaryPartial);
        const support = await followSupport(db, admin, names);
        const follow = support.supported ? await startFollowing(db, admin, names, heartbeat, options.followStartTimeoutMs) : support;
        const copy = { binDir: options.binDir, from: names.original, to: names.temporaryPartial, keepOwners: superuser };
        if ('reason' in follow) {
          await dumpAndRestore(db, copy, heartbeat);
          result = snapshot(follow.reason);
        } else {
          try {
            await dumpAndRestore(db, { ...copy, snapshot: follow.snapshot }, heartbeat);
          } finally {
            await follow.close();
          }
          const refused = await subscribe(db, names.temporaryPartial, names);
          if (refused) await stopFollowingOnOriginal(db, admin, names);
          const notFollowed = follow.notFollowed.length ? { notFollowed: follow.notFollowed } : {};
          result = refused ? snapshot(refused.reason) : { following: true, ...notFollowed };
        }
      } catch (error) {
        await dropFollowingCopy(db, admin, names.temporaryPartial).catch(() => undefined);
        await stopFollowingOnOriginal(db, admin, names).catch(() => undefined);
        throw error;
      }
      await renameDatabase(admin, names.temporaryPartial, names.temporary);
      if (result.following) await enableSubscription(db, names.temporary);
      return result;
    }),
  );
}

/** Idempotent; also removes what an interrupted copy left behind, and the slot and publication that made it follow. */
export async function dropTemporary(db: DatabaseHandle, names: PhysicalNames): Promise<void> {
  await withMaintenance(db, async (admin) => {
    await dropFollowingCopy(db, admin, names.temporary);
    await dropFollowingCopy(db, admin, names.temporaryPartial);
    await stopFollowingOnOriginal(db, admin, names);
  });
}

/** Waits for the copy to have what the original committed, stops following, then brings the copy's sequences level. */
export async function stopFollowing(
  db: DatabaseHandle,
  names: PhysicalNames,
  heartbeat: HeartbeatFn,
  options: StopFollowingOptions,
): Promise<StopFollowingResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_STOP_TIMEOUT_MS;
  return withMaintenance(db, (admin) =>
    withOperationLock(admin, names.original, () => endFollowing(db, admin, names, heartbeat, timeoutMs)),
  );
}
