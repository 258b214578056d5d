import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);
/** Scratch: wrk direct vs through the built-in router, same nginx static backend. */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';
import { distinctFreePort, killStartedGroups, spawnGroup, waitUntil } from '../test/data-plane/support.js';
import { createBuiltinDataPlane } from '../src/platform/data-plane/builtin.js';
const run = promisify(execFile);
const seconds = Number(process.env.SECS ?? 5);
const conns = Number(process.env.CONNS ?? 32);
import { readFileSync } from 'node:fs';
let cpuPid = 0;
const cpuMs = () => { if (!cpuPid) return 0; const st = readFileSync(`/proc/${cpuPid}/stat`, 'utf8'); const f = st.slice(st.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
const sched = () => { try { const tids = require('node:fs').readdirSync(`/proc/${cpuPid}/task`); let run = 0, wait = 0; for (const t of tids) { const [a, b] = readFileSync(`/proc/${cpuPid}/task/${t}/schedstat`, 'utf8').split(' ').map(Number); run += a; wait += b; } return [run / 1e6, wait / 1e6]; } catch { return [0, 0]; } };
async function wrk(url: string, s = seconds) {
  const before = cpuMs();
  const [run0, wait0] = sched();
  const { stdout } = await run('wrk', [`-t${Math.min(2, conns)}`, `-c${conns}`, `-d${s}s`, '--latency', url]);
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1];
  const p50 = /50%\s+(\S+)/.exec(stdout)?.[1];
  const err = /Socket errors.*|Non-2xx.*/.exec(stdout)?.[0] ?? '';
  const total = Number(/(\d+) requests in/.exec(stdout)?.[1]);
  const used = cpuMs() - before;
  const [run1, wait1] = sched();
  console.log(`  sched: ran ${(run1 - run0).toFixed(0)} ms, waited for CPU ${(wait1 - wait0).toFixed(0)} ms of ${s * 1000}`);
  return `${rps} req/s p50 ${p50} ${err} cpu ${used}ms = ${((used * 1000) / total).toFixed(1)} us/req`;
}
const dir = await mkdtemp(join(tmpdir(), 'rperf-'));
const port = await distinctFreePort();
await writeFile(join(dir, 'b.conf'), `worker_processes 1; pid ${dir}/b.pid; error_log ${dir}/b.log; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; server { listen 127.0.0.1:${port}; location / { return 200 "hello a\\n"; } } }`);
spawnGroup('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'b.conf'), '-g', 'daemon off;'], { cpu: 0 });
await waitUntil('backend', async () => (await fetch(`http://127.0.0.1:${port}/`)).ok);
const site = { name: 'web', publicPort: await distinctFreePort(), previewPort: await distinctFreePort() };
const adminPort = await distinctFreePort();
const token = randomBytes(32).toString('hex');
await writeFile(join(dir, 'cutover.yaml'), `stateDir: ${dir}\nenvironments:\n  acme:\n    router: { adminPort: ${adminPort} }\n    sites:\n      - { name: web, role: zdd, publicPort: ${site.publicPort}, previewPort: ${site.previewPort} }\n`);
const dp = createBuiltinDataPlane({ url: `http://127.0.0.1:${adminPort}`, environment: 'acme', token, tokenEnv: 'CUTOVER_ROUTER_TOKEN' });
const extra = (process.env.NODEARGS ?? '').split(' ').filter(Boolean);
const main = process.env.MAIN ?? '.scratch-router/router/main.ts';
const nginxMode = main === 'nginx';
const minimal = main.endsWith('.mjs') || nginxMode;
const old = main.includes('scratch-router/router');
const args = minimal ? [main, String(site.publicPort), String(port)] : ['--import', 'tsx', main, ...(old ? ['--environment', 'acme'] : ['--host', 'local']), '--config', join(dir, 'cutover.yaml')];
if (nginxMode) await writeFile(join(dir, 'p.conf'), `master_process off; daemon off; worker_processes 1; pid ${dir}/p.pid; error_log ${dir}/p.log; events { worker_connections 4096; }
http { access_log off; upstream up { server 127.0.0.1:${port}; keepalive 64; } server { listen 127.0.0.1:${site.publicPort}; keepalive_requests 1000000; location / { proxy_pass http://up; proxy_http_version 1.1; proxy_set_header Connection ""; } } }`);
const proc = nginxMode ? spawnGroup('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'p.conf')], { cpu: 1 }) : spawnGroup(process.execPath, [...extra, ...args], { env: { ...process.env, CUTOVER_ROUTER_TOKEN: token }, cpu: 1 });
cpuPid = proc.child.pid!;
if (minimal) { await waitUntil('minimal', async () => (await fetch(`http://127.0.0.1:${site.publicPort}/`)).ok, proc); dp.setLive = (async () => ({})) as never; }
else await waitUntil('router', async () => (await fetch(`http://127.0.0.1:${adminPort}/healthz`)).ok, proc);
if (!minimal) dp.setLive = (async () => { const r = await fetch(`http://127.0.0.1:${adminPort}${old ? '' : '/v1/environments/acme'}/sites/web/live`.replace('/sites', old ? '/v1/sites' : '/sites'), { method: 'PUT', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ kind: 'slot', slotId: 'a', port }) }); if (!r.ok) throw new Error(await r.text()); return {}; }) as never;
const under = { dataPlane: dp, publicUrl: () => `http://127.0.0.1:${site.publicPort}`, stop: async () => { process.kill(-proc.child.pid!, 'SIGINT'); await proc.exited; } };
await under.dataPlane.setLive('web', { kind: 'slot', slotId: 'a', replicas: [{ host: '127.0.0.1', port }] });
try {
  if (!process.env.NODIRECT) console.log('direct ', await wrk(`http://127.0.0.1:${port}/`));
  await wrk(`${under.publicUrl('web')}/`, 1);
  for (let i = 0; i < Number(process.env.REPS ?? 2); i++) console.log('router ', await wrk(`${under.publicUrl('web')}/`));
  if (process.env.HOLD) { console.log('holding; url', under.publicUrl('web')); await new Promise((r) => setTimeout(r, Number(process.env.HOLD) * 1000)); }
} finally {
  await under.stop();
  await killStartedGroups();
}
