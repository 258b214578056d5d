import { inject, test, expect } from 'vitest';
import { Connection, Client } from '@temporalio/client';
import pg from 'pg';
test('real services', async () => {
  const c = await Connection.connect({ address: inject('temporalAddress') });
  const client = new Client({ connection: c });
  const r = await client.workflowService.getSystemInfo({});
  expect(r.serverVersion).toBeTruthy();
  const db = new pg.Client(inject('pgAdminUrl'));
  await db.connect();
  const v = await db.query('show server_version');
  await db.end();
  console.log(r.serverVersion, v.rows[0]);
  await c.close();
});
