import type { SqlStatement } from '../session.js';

/** The history table; a binary collation so that names compare byte for byte, as on PostgreSQL. */
export const HISTORY_TABLE = 'dbo.cutover_migrations';

/** Serialises every applier of one database; owned by the transaction (or the session, for a no-transaction migration). */
const LOCK_RESOURCE = "N'cutover_migrations'";

function takeMigrationsLock(owner: 'Transaction' | 'Session'): string {
  return (
    'DECLARE @lock int;\n' +
    `EXEC @lock = sp_getapplock @Resource = ${LOCK_RESOURCE}, @LockMode = N'Exclusive', @LockOwner = N'${owner}', @LockTimeout = -1;\n` +
    "IF @lock < 0 THROW 51000, N'Cutover could not lock the migration history', 1;"
  );
}

/** Creates the history table once, under the lock so that two appliers do not both try. */
export const ensureHistory: SqlStatement = {
  text:
    'SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n' +
    takeMigrationsLock('Transaction') +
    `\nIF OBJECT_ID(N'${HISTORY_TABLE}', N'U') IS NULL\n` +
    `  CREATE TABLE ${HISTORY_TABLE} (\n` +
    '    name nvarchar(255) COLLATE Latin1_General_BIN2 NOT NULL CONSTRAINT cutover_migrations_pk PRIMARY KEY,\n' +
    '    checksum char(64) NOT NULL,\n' +
    '    applied_at datetime2(3) NOT NULL CONSTRAINT cutover_migrations_applied_at DEFAULT SYSUTCDATETIME()\n' +
    '  );\nCOMMIT TRANSACTION;',
};

export const recordedChecksums: SqlStatement = { text: `SELECT name, checksum FROM ${HISTORY_TABLE};` };

export function recordedChecksumOf(name: string): SqlStatement {
  return { text: `SELECT checksum FROM ${HISTORY_TABLE} WHERE name = @name;`, params: { name } };
}

/** One migration, one transaction: XACT_ABORT makes any error roll all of it back. */
export const beginMigration: SqlStatement = { text: `SET XACT_ABORT ON;\nBEGIN TRANSACTION;\n${takeMigrationsLock('Transaction')}` };

/** For a migration marked `-- cutover:no-transaction` (statements SQL Server refuses inside a transaction). */
export const lockMigrationsForSession: SqlStatement = { text: `SET XACT_ABORT ON;\n${takeMigrationsLock('Session')}` };

/** After the migration's batches: exactly our one transaction must still be open, and not doomed. */
export const transactionState: SqlStatement = { text: 'SELECT @@TRANCOUNT AS depth, XACT_STATE() AS state;' };

/** Histories made before expand/contract migrations lack the phase column; added when a phased migration comes. */
export const ensureHistoryPhase: SqlStatement = {
  text: `IF COL_LENGTH(N'${HISTORY_TABLE}', N'phase') IS NULL ALTER TABLE ${HISTORY_TABLE} ADD phase nvarchar(16) NULL;`,
};

/** A plain migration's row leaves the phase out (null), so histories without the column keep working. */
export function recordMigration(name: string, checksum: string, phase?: 'expand' | 'contract'): SqlStatement {
  if (phase)
    return {
      text: `INSERT INTO ${HISTORY_TABLE} (name, checksum, phase) VALUES (@name, @checksum, @phase);`,
      params: { name, checksum, phase },
    };
  return { text: `INSERT INTO ${HISTORY_TABLE} (name, checksum) VALUES (@name, @checksum);`, params: { name, checksum } };
}

export const commitMigration: SqlStatement = { text: 'COMMIT TRANSACTION;' };

export const rollbackIfOpen: SqlStatement = { text: 'IF @@TRANCOUNT > 0 ROLLBACK TRANSACTION;' };

/** Names in the history table, in byte order; no result set when there is no table yet. */
export const appliedMigrationsQuery: SqlStatement = {
  text: `IF OBJECT_ID(N'${HISTORY_TABLE}', N'U') IS NOT NULL SELECT name FROM ${HISTORY_TABLE} ORDER BY name;`,
};
