/**
 * The applyMigrations activity on a real PostgreSQL with the real demo packages: an older package (v1 after v2) is a
 * non-retryable migration-failed that names the missing migration, unless the request or the environment's config
 * allows it.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, test } from 'vitest';
import { createActivities } from '../../src/activities/index.js';
import { parseConfig } from '../../src/config/load.js';
import { createPackageStore } from '../../src/packages/store.js';

const dir = mkdtempSync(join(tmpdir(), 'cutover-migrations-activity-'));
const admin = new pg.Client(inject('pgAdminUrl'));
const databases: string[] = [];
let activities: ReturnType<typeof createActivities>;
let v1: string;
let v2: string;

async function newDatabaseUrl(): Promise<string> {
  const name = `t_${randomBytes(5).toString('hex')}`;
  await admin.query(`create database ${name}`);
  databases.push(name);
  const url = new URL(inject('pgAdminUrl'));
  url.pathname = `/${name}`;
  return url.toString();
}

const environment = (name: string, port: number, extra = '') => `
  ${name}:
    host: ${name}
    router: { adminPort: ${port} }
    sites: [{ name: web, role: zdd, publicPort: ${port + 1}, previewPort: ${port + 2} }]
    databases: [{ name: app, engine: postgres, connectionEnv: ${name.toUpperCase()}_DATABASE_URL }]${extra}`;

beforeAll(async () => {
  await admin.connect();
  const config = parseConfig(
    `stateDir: ${dir}
postgres: { binDir: ${inject('pgBinDir')} }
environments:${environment('strict', 41000)}${environment('lenient', 41010, '\n    migrations: { allowMissing: true }')}
`,
    join(dir, 'cutover.yaml'),
  );
  const store = createPackageStore(join(dir, 'packages'));
  v1 = (await store.importPackage('examples/demo-app/v1')).ref.sha256;
  v2 = (await store.importPackage('examples/demo-app/v2')).ref.sha256;
  const env = { STRICT_DATABASE_URL: await newDatabaseUrl(), LENIENT_DATABASE_URL: await newDatabaseUrl() };
  activities = createActivities({ config, store, env });
});
afterAll(async () => {
  for (const name of databases) await admin.query(`drop database if exists ${name} with (force)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

const migrate = (environment: string, packageSha256: string, allowMissingMigrations?: boolean) =>
  // Refusals are expected here: the harness need not log them (they still reach the test).
  new MockActivityEnvironment(undefined, { logger: new DefaultLogger('ERROR', () => undefined) }).run(activities.applyMigrations, {
    environment,
    database: 'app',
    packageSha256,
    allowMissingMigrations,
  });

describe('applyMigrations activity: a package older than the database', () => {
  test('is refused (non-retryable migration-failed, naming the migration) unless the request allows it', async () => {
    expect(await migrate('strict', v2)).toEqual({ applied: ['0001_create_notes.sql', '0002_add_author.sql'], alreadyApplied: [] });
    for (const allow of [undefined, false]) {
      const error = await migrate('strict', v1, allow).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ApplicationFailure);
      expect(error).toMatchObject({ type: 'migration-failed', nonRetryable: true });
      expect((error as Error).message).toMatch(/already applied migration 0002_add_author\.sql that this package does not have/);
    }
    expect(await migrate('strict', v1, true)).toEqual({
      applied: [],
      alreadyApplied: ['0001_create_notes.sql'],
      missing: ['0002_add_author.sql'],
    });
  });

  test("is deployed when the environment's config allows it", async () => {
    await migrate('lenient', v2);
    expect(await migrate('lenient', v1)).toEqual({
      applied: [],
      alreadyApplied: ['0001_create_notes.sql'],
      missing: ['0002_add_author.sql'],
    });
  });
});
