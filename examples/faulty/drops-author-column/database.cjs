'use strict';
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: the package runs with plain node, no build */
// The demo site's database, PostgreSQL (pg) or SQL Server (mssql), chosen by the scheme of DATABASE_URL.

/** Cutover's SQL Server form: sqlserver://user:password@host[:port]/database[?encrypt=…&trustServerCertificate=…&instanceName=…&applicationName=…&connectTimeout=…] */
function sqlServerConfig(connectionString) {
  const url = new URL(connectionString);
  const flag = (name, fallback) => {
    const value = url.searchParams.get(name);
    return value === null ? fallback : ['true', '1', 'yes'].includes(value.toLowerCase());
  };
  const instanceName = url.searchParams.get('instanceName') || undefined;
  return {
    server: decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')),
    port: url.port && !instanceName ? Number(url.port) : undefined,
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)),
    connectionTimeout: Number(url.searchParams.get('connectTimeout') || 5000),
    requestTimeout: 10_000,
    pool: { min: 0, max: 5, idleTimeoutMillis: 30_000 },
    options: {
      encrypt: flag('encrypt', true),
      trustServerCertificate: flag('trustServerCertificate', false),
      instanceName,
      appName: url.searchParams.get('applicationName') || 'demo-app',
    },
  };
}

function postgres(connectionString, log) {
  const { Pool } = require('pg');
  const pool = new Pool({ connectionString, max: 5, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, query_timeout: 10_000 });
  // A dropped idle connection must not crash the site: the pool opens a new one for the next query.
  pool.on('error', (error) => log(`database connection lost: ${error.message}`));
  return {
    engine: 'postgres',
    query: async (text, params = []) => (await pool.query(text, params)).rows,
    // SQLSTATE 25006 read_only_sql_transaction: we run on a read-only clone.
    isReadOnly: (error) => Boolean(error) && error.code === '25006',
    isUnavailable: (error) => {
      const code = String((error && error.code) || '');
      return (
        code.startsWith('08') ||
        code.startsWith('57P') ||
        code === '53300' ||
        code === '3D000' ||
        code === 'ECONNREFUSED' ||
        code === 'ECONNRESET' ||
        /timeout|terminated/i.test(String(error && error.message))
      );
    },
    end: () => pool.end(),
  };
}

/** Every SQL Server error number in an mssql error, its preceding errors included. */
function errorNumbers(error) {
  const all = [error, ...((error && error.precedingErrors) || []), error && error.originalError];
  return all
    .filter(Boolean)
    .map((e) => (e.info && e.info.number) || e.number)
    .filter((n) => typeof n === 'number');
}

function sqlServer(connectionString, log) {
  const mssql = require('mssql');
  const pool = new mssql.ConnectionPool(sqlServerConfig(connectionString));
  pool.on('error', (error) => log(`database connection lost: ${error.message}`));
  let connecting;
  // Connect on first use, and again after a failed attempt: the site starts even while the database does not answer yet.
  function ready() {
    if (pool.connected) return Promise.resolve();
    if (!connecting) connecting = pool.connect().finally(() => (connecting = undefined));
    return connecting;
  }
  return {
    engine: 'sqlserver',
    /** Parameters are @p1, @p2…, in order. */
    async query(text, params = []) {
      await ready();
      const request = pool.request();
      params.forEach((value, i) => request.input(`p${i + 1}`, value));
      return (await request.query(text)).recordset || [];
    },
    // Error 3906: "Failed to update database … because the database is read-only" (a read-only clone).
    isReadOnly: (error) => errorNumbers(error).includes(3906),
    isUnavailable: (error) => {
      const code = String((error && error.code) || '');
      return (
        ['ESOCKET', 'ETIMEOUT', 'ECONNCLOSED', 'ELOGIN', 'ENOTOPEN', 'ECONNRESET'].includes(code) ||
        errorNumbers(error).some((n) => [233, 4060, 40613, 40197, 40501, 10053, 10054].includes(n))
      );
    },
    end: () => pool.close(),
  };
}

/** The database of DATABASE_URL: postgres:// and postgresql:// with pg, sqlserver:// with mssql. */
function connect(connectionString, log) {
  return /^sqlserver:/i.test(connectionString) ? sqlServer(connectionString, log) : postgres(connectionString, log);
}

module.exports = { connect, sqlServerConfig };
