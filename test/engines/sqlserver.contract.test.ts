import { describe } from 'vitest';
import { describeEngineContract } from './contract.js';
import { makeSqlServerContext } from './sqlserver-context.js';

// The same contract as PostgreSQL, against a real SQL Server when MSSQL_URL names one (see docs/sqlserver.md).
const url = process.env.MSSQL_URL?.trim();

if (url) {
  describeEngineContract('sqlserver', () => makeSqlServerContext(url));
} else {
  const reason =
    'MSSQL_URL is not set, so no SQL Server is reachable from this run; ' +
    'set MSSQL_URL=sqlserver://sa:…@127.0.0.1:1433/master?trustServerCertificate=true to run it';
  // Said out loud, not only counted: these tests did not run.
  console.warn(`\n[sqlserver engine contract] SKIPPED: ${reason}\n`);
  describe.skip(`SKIPPED: ${reason}`, () => describeEngineContract('sqlserver', () => makeSqlServerContext('')));
}
