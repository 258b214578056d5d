import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { freePort } from '../../src/process/free-port.js';
import { startApp, stopAllApps, waitForHttp } from './support/app-process.js';

const demoDir = join(import.meta.dirname, '../../examples/demo-app');
const require = createRequire(import.meta.url);

interface DemoDatabase {
  engine: string;
  isReadOnly(error: unknown): boolean;
  isUnavailable(error: unknown): boolean;
  end(): Promise<void>;
}
const database = require(join(demoDir, 'v2/database.cjs')) as {
  connect(url: string, log: (m: string) => void): DemoDatabase;
  sqlServerConfig(url: string): Record<string, unknown>;
};

afterAll(() => stopAllApps());

describe('demo app database adapter', () => {
  test("reads Cutover's sqlserver:// form into an mssql configuration", () => {
    expect(
      database.sqlServerConfig('sqlserver://app:p%40ss@db:1433/demo__cutover_tmp?encrypt=true&trustServerCertificate=true'),
    ).toMatchObject({
      server: 'db',
      port: 1433,
      user: 'app',
      password: 'p@ss',
      database: 'demo__cutover_tmp',
      options: { encrypt: true, trustServerCertificate: true, appName: 'demo-app' },
    });
    expect(database.sqlServerConfig('sqlserver://app:pw@db/demo')).toMatchObject({
      port: undefined,
      options: { encrypt: true, trustServerCertificate: false },
    });
  });

  test('picks mssql for sqlserver:// and pg otherwise; recognises SQL Server error 3906 as read-only', async () => {
    const sqlserver = database.connect('sqlserver://app:pw@127.0.0.1:1/demo', () => undefined);
    const postgres = database.connect('postgres://app:pw@127.0.0.1:1/demo', () => undefined);
    expect([sqlserver.engine, postgres.engine]).toEqual(['sqlserver', 'postgres']);
    const refused = Object.assign(new Error('Failed to update database "demo__cutover_tmp" because the database is read-only.'), {
      number: 3906,
    });
    expect(sqlserver.isReadOnly(refused)).toBe(true);
    expect(
      sqlserver.isReadOnly(Object.assign(new Error('The statement has been terminated.'), { number: 3621, precedingErrors: [refused] })),
    ).toBe(true);
    expect(sqlserver.isReadOnly(Object.assign(new Error('dup'), { number: 2627 }))).toBe(false);
    expect(sqlserver.isUnavailable(Object.assign(new Error('Failed to connect'), { code: 'ESOCKET' }))).toBe(true);
    expect(postgres.isReadOnly(Object.assign(new Error('read-only'), { code: '25006' }))).toBe(true);
    await Promise.all([sqlserver.end(), postgres.end()]);
  });
});

describe('demo app v2 on a SQL Server that does not answer', () => {
  test('it starts, answers 503 instead of crashing, and stops cleanly', async () => {
    const port = await freePort();
    const app = await startApp(join(demoDir, 'v2'), {
      DATABASE_URL: `sqlserver://sa:pw@127.0.0.1:${port}/demo?connectTimeout=1000`,
      CUTOVER_SLOT: 'mssql',
    });
    await waitForHttp(app);
    const health = await fetch(`${app.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ ok: false, version: '2.0.0', error: expect.stringMatching(/^database not reachable: /) });
    const posted = await fetch(`${app.url}/notes`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ body: 'hello' }),
    });
    expect(posted.status).toBe(503);
    expect(await posted.json()).toMatchObject({ error: 'database-unavailable' });
    expect(await app.stop()).toBe(0);
  });
});
