import type pg from 'pg';
import type { DatabaseHandle, HeartbeatFn } from '../engine.js';
import { copyDatabaseAccess, databaseExists, dropDatabase, isSuperuser, ownerOf, renameDatabase, withOperationLock } from './databases.js';
import { dumpAndRestore } from './dump-restore.js';
import type { PhysicalNames } from './names.js';
import { withMaintenance } from './session.js';
import { ident, literal } from './sql.js';

/**
 * CREATE DATABASE options that give an empty database the original's encoding and locale
 * (read as JSON so that column renames across PostgreSQL versions do not break it).
 */
async function localeOptionsOf(admin: pg.Client, database: string): Promise<string> {
  const result = await admin.query<{ d: Record<string, unknown> }>(
    'select to_jsonb(d) || jsonb_build_object(\'encoding_name\', pg_encoding_to_char(d.encoding)) as d from pg_database d where datname = $1',
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

/**
 * Builds the temporary copy under its _partial name and renames it into place only when complete,
 * so that a crash mid-copy leaves a _partial that the retry drops and redoes.
 */
export async function copyToTemporary(db: DatabaseHandle, names: PhysicalNames, binDir: string, heartbeat: HeartbeatFn): Promise<void> {
  await withMaintenance(db, (admin) =>
    withOperationLock(admin, names.original, async () => {
      if (await databaseExists(admin, names.temporary)) return;
      if (!(await databaseExists(admin, names.original))) throw new Error(`database "${names.original}" does not exist`);
      await dropDatabase(admin, names.temporaryPartial);
      const superuser = await isSuperuser(admin);
      const owner = superuser ? await ownerOf(admin, names.original) : undefined;
      await admin.query(
        `create database ${ident(names.temporaryPartial)} template template0 ${await localeOptionsOf(admin, names.original)}${owner ? ` owner ${ident(owner)}` : ''}`,
      );
      try {
        await copyDatabaseAccess(admin, names.original, names.temporaryPartial);
        await dumpAndRestore(db, { binDir, from: names.original, to: names.temporaryPartial, keepOwners: superuser }, heartbeat);
      } catch (error) {
        await dropDatabase(admin, names.temporaryPartial).catch(() => undefined);
        throw error;
      }
      await renameDatabase(admin, names.temporaryPartial, names.temporary);
    }),
  );
}

/** Idempotent; also removes what an interrupted copy left behind. */
export async function dropTemporary(db: DatabaseHandle, names: PhysicalNames): Promise<void> {
  await withMaintenance(db, async (admin) => {
    await dropDatabase(admin, names.temporary);
    await dropDatabase(admin, names.temporaryPartial);
  });
}
