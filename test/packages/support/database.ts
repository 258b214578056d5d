import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** A fresh, uniquely named database on the test cluster, with what the test needs to use and drop it. */
export async function createDatabase(adminUrl: string, prefix: string) {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client(adminUrl);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    /** Runs SQL as the superuser in this database (migrations, checks). */
    async run(sql: string, params: unknown[] = []) {
      const client = new pg.Client(url.toString());
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    /** What a read-only clone looks like to an app: every new session refuses writes. */
    async makeReadOnly() {
      const client = new pg.Client(adminUrl);
      await client.connect();
      try {
        await client.query(`ALTER DATABASE "${name}" SET default_transaction_read_only = on`);
      } finally {
        await client.end();
      }
    },
    async drop() {
      const client = new pg.Client(adminUrl);
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export type TestDatabase = Awaited<ReturnType<typeof createDatabase>>;
