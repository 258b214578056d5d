import { parseConfig } from './src/config/load.ts';
import { resolveTemporalSettings, connectWorkerConnection, lazyClientConnection, explained } from './src/temporal/connection.ts';
import { Client } from '@temporalio/client';
const cfg = parseConfig('environments: {}\n', '/tmp/x.yaml').temporal;
const d = '/tmp/h17/';
const good = { TEMPORAL_ADDRESS: '127.0.0.1:17443', TEMPORAL_TLS_SERVER_CA_CERT_PATH: d + 'ca.pem', TEMPORAL_TLS_CLIENT_CERT_PATH: d + 'client.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: d + 'client.key' };
const cases: Record<string, Record<string, string>> = {
  good,
  nocert: { TEMPORAL_ADDRESS: '127.0.0.1:17443', TEMPORAL_TLS_SERVER_CA_CERT_PATH: d + 'ca.pem' },
  wrong: { ...good, TEMPORAL_TLS_CLIENT_CERT_PATH: d + 'wrong.pem', TEMPORAL_TLS_CLIENT_KEY_PATH: d + 'wrong.key' },
  plain: { TEMPORAL_ADDRESS: '127.0.0.1:17443' },
  tlsToPlain: { ...good, TEMPORAL_ADDRESS: '127.0.0.1:17233' },
  noCA: { ...good, TEMPORAL_TLS_SERVER_CA_CERT_PATH: undefined as unknown as string },
  refused: { TEMPORAL_ADDRESS: '127.0.0.1:1' },
  mismatch: { ...good, TEMPORAL_TLS_CLIENT_KEY_PATH: d + 'wrong.key' },
  missingfile: { ...good, TEMPORAL_TLS_CLIENT_CERT_PATH: d + 'nope.pem' },
};
for (const [name, vars] of Object.entries(cases)) {
  const env = Object.fromEntries(Object.entries(vars).filter(([, v]) => v !== undefined));
  let s;
  try { s = resolveTemporalSettings(cfg, env); } catch (e) { console.log(`[${name}] settings:`, (e as Error).message); continue; }
  try { const n = await connectWorkerConnection(s); console.log(`[${name}] native ok`); await n.close(); } catch (e) { console.log(`[${name}] native:`, (e as Error).message); }
  const c = lazyClientConnection(s, { connectTimeout: '3s' });
  try { await explained(s, () => new Client({ connection: c }).workflowService.getSystemInfo({})); console.log(`[${name}] client ok`); } catch (e) { console.log(`[${name}] client:`, (e as Error).message); }
  await c.close().catch(() => {});
}
