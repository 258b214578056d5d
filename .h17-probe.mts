import { Connection, Client } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { readFileSync } from 'node:fs';
const ca = readFileSync('/tmp/h17/ca.pem');
const pair = { crt: readFileSync('/tmp/h17/client.pem'), key: readFileSync('/tmp/h17/client.key') };
for (const [name, tls] of [['good', { serverRootCACertificate: ca, clientCertPair: pair }], ['nocert', { serverRootCACertificate: ca }]] as const) {
  try {
    const c = await Connection.connect({ address: '127.0.0.1:17443', tls, connectTimeout: '3s' });
    const r = await new Client({ connection: c }).workflowService.getSystemInfo({});
    console.log(name, 'client ok', r.serverVersion);
    const list = new Client({ connection: c }).workflow.list();
    for await (const w of list) { console.log(w.workflowId); break; }
    console.log(name, 'list ok');
    await c.close();
  } catch (e) { console.log(name, 'client error', (e as Error).message, (e as any).cause?.message); }
  try {
    const n = await NativeConnection.connect({ address: '127.0.0.1:17443', tls });
    await n.workflowService.getSystemInfo({});
    console.log(name, 'native ok');
    await n.close();
  } catch (e) { console.log(name, 'native error', (e as Error).message); }
}
