import { describe, expect, test } from 'vitest';
import { freePort } from '../../src/process/free-port.js';
import { EngineError, type DatabaseHandle } from '../../src/engines/engine.js';
import { engineFor, resolveDatabaseHandle } from '../../src/engines/index.js';
import { isReadOnlyViolation } from './read-only-violation.js';
import { createSqlServerEngine } from '../../src/engines/sqlserver.js';
import { settingsOf } from '../../src/engines/sqlserver/connection-url.js';
import { engineFailure, isTransient } from '../../src/engines/sqlserver/errors.js';
import { mssqlConfigFor } from '../../src/engines/sqlserver/mssql-session.js';
import { sqlError } from './support/fake-sqlserver.js';

const shop = { name: 'shop', engine: 'sqlserver' as const, connectionEnv: 'SHOP_DATABASE_URL' };
const handle = (connectionString: string): DatabaseHandle => ({ config: shop, connectionString });
const engine = createSqlServerEngine();

function thrown(work: () => unknown): Error {
  try {
    work();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('sqlserver:// connection strings', () => {
  test('every part and option is read; the password is percent-decoded', () => {
    const db = handle(
      'sqlserver://app%40corp:p%40ss%3Aw%2Frd@db.internal:14330/Shop%20DB' +
        '?encrypt=false&trustServerCertificate=true&applicationName=web&connectTimeout=5000',
    );
    expect(settingsOf(db)).toEqual({
      server: 'db.internal',
      port: 14330,
      instanceName: undefined,
      user: 'app@corp',
      password: 'p@ss:w/rd',
      database: 'Shop DB',
      encrypt: false,
      trustServerCertificate: true,
      applicationName: 'web',
      connectTimeoutMs: 5000,
    });
  });

  test('defaults: encrypted, certificate checked, application "cutover"; IPv6 hosts and named instances', () => {
    expect(settingsOf(handle('sqlserver://sa:pw@[::1]/shop'))).toMatchObject({
      server: '::1',
      port: undefined,
      encrypt: true,
      trustServerCertificate: false,
      applicationName: 'cutover',
    });
    expect(settingsOf(handle('sqlserver://sa:pw@host/shop?instanceName=SQLEXPRESS'))).toMatchObject({ instanceName: 'SQLEXPRESS' });
  });

  test('mssql gets one connection per session, no statement time limit, and the TLS options', () => {
    const config = mssqlConfigFor(handle('sqlserver://sa:pw@db:1433/shop?trustServerCertificate=true'), 'shop__cutover_tmp');
    expect(config).toMatchObject({
      server: 'db',
      port: 1433,
      user: 'sa',
      password: 'pw',
      database: 'shop__cutover_tmp',
      connectionTimeout: 15_000,
      requestTimeout: 0,
      pool: { min: 0, max: 1 },
      options: { encrypt: true, trustServerCertificate: true, appName: 'cutover' },
    });
    expect(mssqlConfigFor(handle('sqlserver://sa:pw@db:1433/shop?instanceName=X'), 'shop').port).toBeUndefined();
    expect(mssqlConfigFor(handle('sqlserver://sa:pw@db/shop'), 'shop', { timeoutMs: 5000, requestTimeoutMs: 5000 })).toMatchObject({
      connectionTimeout: 5000,
      requestTimeout: 5000,
    });
  });

  test('a slot gets the same server, credentials and options, with only the database swapped', () => {
    const db = handle('sqlserver://app:s%40cret@db.internal:1433/shop?encrypt=true&trustServerCertificate=true');
    expect(engine.connectionStringFor(db, 'original')).toBe(
      'sqlserver://app:s%40cret@db.internal:1433/shop?encrypt=true&trustServerCertificate=true',
    );
    expect(engine.connectionStringFor(db, 'temporary')).toBe(
      'sqlserver://app:s%40cret@db.internal:1433/shop__cutover_tmp?encrypt=true&trustServerCertificate=true',
    );
    const odd = handle(`sqlserver://app:pw@h/${encodeURIComponent("Shop ]'Ü/?#")}`);
    const temporary = new URL(engine.connectionStringFor(odd, 'temporary'));
    expect(decodeURIComponent(temporary.pathname.slice(1))).toBe("Shop ]'Ü/?#__cutover_tmp");
  });

  test('mistakes are invalid input naming the variable and the option, never the password', () => {
    const cases: Array<[string, RegExp]> = [
      ['postgres://u:hunter2@h/shop', /must start with sqlserver:\/\//],
      ['sqlserver://u:hunter2@h/shop?encrypt=maybe', /option encrypt must be true or false/],
      ['sqlserver://u:hunter2@h/shop?password=hunter2&Encrypt=true', /unknown option\(s\) "password", "Encrypt"/],
      ['sqlserver://u:hunter2@h/shop?connectTimeout=soon', /connectTimeout must be a number of milliseconds/],
      ['sqlserver://:hunter2@h/shop', /names no user/],
      ['sqlserver://u:hunter2@h/', /names no database/],
      ['sqlserver://u:hunter2@h/master', /system database "master"/],
    ];
    for (const [url, message] of cases) {
      const error = thrown(() => engine.connectionStringFor(handle(url), 'temporary'));
      expect(error, url).toBeInstanceOf(EngineError);
      expect(error).toMatchObject({ failureClass: 'invalid-input' });
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain('hunter2');
    }
    expect(thrown(() => engine.connectionStringFor(handle('sqlserver://u:pw@h/shop?encrypt=maybe'), 'original')).message).toMatch(
      /SHOP_DATABASE_URL \(database shop\)/,
    );
  });

  test('resolveDatabaseHandle checks a SQL Server URL at once, naming the variable, never its value', () => {
    const secret = 'sqlserver://app:hunter2@db/shop?encrypt=true';
    expect(resolveDatabaseHandle(shop, { SHOP_DATABASE_URL: secret })).toEqual({ config: shop, connectionString: secret });
    for (const bad of ['postgres://app:hunter2@db/shop', 'sqlserver://app:hunter2@db/shop?bogus=hunter2', 'not a url hunter2']) {
      const error = thrown(() => resolveDatabaseHandle(shop, { SHOP_DATABASE_URL: bad }));
      expect(error.message).toMatch(/SHOP_DATABASE_URL/);
      expect(error.message).not.toContain('hunter2');
    }
  });

  test('engineFor gives the SQL Server engine for sqlserver databases, with the PostgreSQL call shape unchanged', () => {
    expect(engineFor(shop, { postgres: { binDir: '/x' } }).name).toBe('sqlserver');
    expect(engineFor(shop, { postgres: { binDir: '/x' }, sqlserver: { backupDirectory: '/b' } }).name).toBe('sqlserver');
    expect(engineFor({ ...shop, engine: 'postgres' }, { postgres: { binDir: '/x' } }).name).toBe('postgres');
  });
});

describe('SQL Server errors', () => {
  test('isReadOnlyViolation recognises error 3906 however it is wrapped, and PostgreSQL 25006 still', () => {
    const refused = sqlError(3906, 'Failed to update database "shop__cutover_tmp" because the database is read-only.');
    expect(isReadOnlyViolation(refused)).toBe(true);
    expect(isReadOnlyViolation(new Error('activity failed', { cause: refused }))).toBe(true);
    expect(isReadOnlyViolation(Object.assign(sqlError(3621, 'The statement has been terminated.'), { precedingErrors: [refused] }))).toBe(
      true,
    );
    expect(isReadOnlyViolation(Object.assign(new Error('request failed'), { originalError: refused }))).toBe(true);
    expect(isReadOnlyViolation(new EngineError('readonly-not-supported', 'x', '3906'))).toBe(true);
    expect(isReadOnlyViolation(engineFailure(refused, 'doing', []))).toBe(true);
    expect(isReadOnlyViolation(Object.assign(new Error('x'), { code: '25006' }))).toBe(true);
    expect(isReadOnlyViolation(sqlError(2627, 'Violation of PRIMARY KEY constraint'))).toBe(false);
    expect(isReadOnlyViolation('3906')).toBe(false);
  });

  test('broken connections, deadlocks, Azure failovers and databases in use are transient; SQL errors are not', () => {
    const connection = (code: string) => Object.assign(new Error('Failed to connect'), { name: 'ConnectionError', code });
    for (const transient of [
      connection('ESOCKET'),
      connection('ETIMEOUT'),
      sqlError(1205, 'deadlock victim'),
      sqlError(40613, 'Database is not currently available'),
      sqlError(3702, 'in use'),
    ]) {
      expect(isTransient(transient), transient.message).toBe(true);
      expect(engineFailure(transient, 'doing', [])).toMatchObject({ failureClass: 'transient' });
    }
    expect(isTransient(connection('ELOGIN'))).toBe(false);
    const plain = engineFailure(sqlError(208, "Invalid object name 'x'."), 'doing', []);
    expect(plain).not.toBeInstanceOf(EngineError);
    expect(plain.message).toBe("doing: Invalid object name 'x'. (error 208)");
    expect(engineFailure(new Error('cannot use sqlserver://u:pw@h/db'), 'doing', ['sqlserver://u:pw@h/db', 'pw']).message).toBe(
      'doing: cannot use ***',
    );
  });

  test('a server that does not answer is a transient failure of the real driver, without the password', async () => {
    const port = await freePort();
    const db = handle(`sqlserver://sa:${encodeURIComponent('Hunter2!pw')}@127.0.0.1:${port}/shop?connectTimeout=3000`);
    let error: Error | undefined;
    try {
      await engine.ping(db);
    } catch (e) {
      error = e as Error;
    }
    expect(error).toBeInstanceOf(EngineError);
    expect(error).toMatchObject({ failureClass: 'transient' });
    expect(error?.message).toMatch(/^cannot reach the database \(database shop\): /);
    expect(String(error) + JSON.stringify(error)).not.toContain('Hunter2!pw');
  });
});
