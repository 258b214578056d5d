/** Tests ask of any engine's error whether it was a refused write: PostgreSQL 25006 or SQL Server 3906, however wrapped. */
import { isReadOnlyViolation as isPostgresReadOnlyViolation } from '../../src/engines/postgres/errors.js';
import { isReadOnlyViolation as isSqlServerReadOnlyViolation } from '../../src/engines/sqlserver/errors.js';

export const isReadOnlyViolation = (err: unknown) => isPostgresReadOnlyViolation(err) || isSqlServerReadOnlyViolation(err);
