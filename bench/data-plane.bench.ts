/**
 * The data planes side by side, in one run, in front of the same backend app: wrk through each of them (req/s, p50,
 * p99) and the CPU time each proxy spends per request (what one core can serve, steady when the machine is busy), in
 * rounds that take turns (the median is shown: a busy moment of the machine hits one round, not one plane), then
 * the errors wrk sees while 20 switches happen at saturation. The backend runs on CPU 0, each proxy alone
 * on CPU 1 (taskset), wrk unpinned. Loopback only.
 * `--backend static` puts nginx answering a fixed text in place of the Node app, so the proxies, not the app, are
 * the bottleneck. Then the memory (RSS) of one built-in router serving 100 environments (a site each: 200 listeners)
 * after traffic through every one of them. `--planes` picks rows by name (comma-separated prefixes, "rss" for the last).
 *   npm run bench:data-plane [-- --seconds 5 --rounds 3 --connections 32 --switches 20 --backend node|static --planes built-in,nginx,rss]
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { createRouterClient } from '../src/platform/router/client.js';
import type { DataPlane, DataPlaneSite, LiveSwitch } from '../src/platform/data-plane/port.js';
import type { DataPlaneUnderTest } from '../test/data-plane/support.js';
import {
  distinctFreePort,
  killStartedGroups,
  sleep,
  spawnGroup,
  startBuiltin,
  startHaproxy,
  startNginx,
  waitUntil,
  type StartDataPlane,
} from '../test/data-plane/support.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const seconds = arg('seconds', 5);
const connections = arg('connections', 32);
const switchCount = arg('switches', 20);
const rounds = arg('rounds', 3);
const switchEveryMs = 250;
const backendKind = process.argv[process.argv.indexOf('--backend') + 1] === 'static' ? 'static' : 'node';
const picked = process.argv.includes('--planes') ? process.argv[process.argv.indexOf('--planes') + 1]!.toLowerCase().split(',') : undefined;
const wanted = (name: string) => !picked || picked.some((prefix) => name.toLowerCase().startsWith(prefix));
const run = promisify(execFile);

/** The app behind every data plane: answers a small text, as a slot would. */
const app = `
const [port, name] = process.argv.slice(1);
require('node:http').createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'x-app-version': name });
  res.end('hello from ' + name + '\\n');
}).listen(Number(port), '127.0.0.1');
`;

interface WrkResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  requests: number;
  errors: number;
  errorDetail: string;
}

function toMs(value: string, unit: string): number {
  return Number(value) * ({ us: 0.001, ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[unit]!;
}

async function wrk(url: string, durationSeconds: number): Promise<WrkResult> {
  const args = ['-t2', `-c${connections}`, `-d${durationSeconds}s`, '--latency', '--timeout', '5s', url];
  const { stdout } = await run('wrk', args, { timeout: (durationSeconds + 30) * 1000 });
  const latency = (p: string) => {
    const match = new RegExp(`^\\s*${p}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(stdout);
    return match ? toMs(match[1]!, match[2]!) : NaN;
  };
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(stdout)?.[1] ?? 0);
  const [connect, read, write, timeout] = socket ? socket.slice(1).map(Number) : [0, 0, 0, 0];
  const errors = connect! + read! + write! + timeout! + non2xx;
  const parts = Object.entries({ connect, read, write, timeout, non2xx }).filter(([, n]) => n);
  return {
    requestsPerSecond: Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1] ?? NaN),
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    requests: Number(/(\d+) requests in/.exec(stdout)?.[1] ?? 0),
    errors,
    errorDetail: parts.map(([kind, n]) => `${kind} ${n}`).join(', '),
  };
}

interface Row {
  name: string;
  load: WrkResult;
  /** CPU time the proxy's processes spent per request of the load run, in microseconds: what one core can serve. */
  cpuUsPerRequest?: number;
  switches?: { wrk: WrkResult; results: LiveSwitch[] };
}

const switchErrors = (w: WrkResult) => `${w.errors} of ${w.requests}${w.errorDetail ? ` (${w.errorDetail})` : ''}`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** CPU seconds (user + system) the processes of a process group used so far (/proc; clock ticks of 10 ms). */
async function groupCpuSeconds(group: number): Promise<number> {
  let ticks = 0;
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
    // Fields after the command name (in parentheses, which may hold spaces): state is field 3, pgrp 5, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(fields[2]) === group) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / 100;
}

async function main() {
  // The built-in router runs from dist/, as in production: built now if its sources changed.
  await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts', '--if-stale'], { timeout: 300_000 });
  const dir = await mkdtemp(join(tmpdir(), 'cutover-bench-'));
  const backends = [
    { name: 'a', port: await distinctFreePort() },
    { name: 'b', port: await distinctFreePort() },
  ];
  if (backendKind === 'static') {
    const servers = backends.map(
      (b) => `server { listen 127.0.0.1:${b.port}; location / { add_header X-App-Version ${b.name}; return 200 "hello ${b.name}\\n"; } }`,
    );
    const conf = `worker_processes 1; pid ${dir}/backend.pid; error_log ${dir}/backend.log; events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; ${servers.join(' ')} }`;
    await writeFile(join(dir, 'backend.conf'), conf);
    spawnGroup('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'backend.conf'), '-g', 'daemon off;'], { cpu: 0 });
  } else {
    for (const b of backends) spawnGroup(process.execPath, ['-e', app, String(b.port), b.name], { cpu: 0 });
  }
  for (const b of backends) await waitUntil(`backend ${b.name} answers`, async () => (await fetch(`http://127.0.0.1:${b.port}/`)).ok);
  const target = (i: number) => {
    const backend = backends[i % 2]!;
    return { kind: 'slot' as const, slotId: backend.name, replicas: [{ host: '127.0.0.1', port: backend.port }] };
  };
  const rows: Row[] = [];
  let memory: RouterMemory | undefined;
  try {
    const planes: Array<[string, StartDataPlane]> = [
      ['built-in router', startBuiltin],
      ['HAProxy', startHaproxy],
      ['nginx', startNginx()],
      ['nginx, no client keep-alive', startNginx({ clientKeepAliveSeconds: 0 })],
    ];
    // Every plane runs at once (idle but for its turn), so the rounds can take turns: noise over time hits each alike.
    const running: Array<{ name: string; url: string; under?: DataPlaneUnderTest }> = [
      { name: 'direct', url: `http://127.0.0.1:${backends[0]!.port}/` },
    ];
    try {
      for (const [name, start] of planes) {
        if (!wanted(name)) continue;
        const site: DataPlaneSite = { name: 'web', publicPort: await distinctFreePort(), previewPort: await distinctFreePort() };
        const under = await start({ dir: await mkdtemp(join(dir, 'plane-')), sites: [site], cpu: 1, compiled: true });
        running.push({ name, url: `${under.publicUrl('web')}/`, under });
        await under.dataPlane.setLive('web', target(0));
        await wrk(`${under.publicUrl('web')}/`, 1); // warm up
      }
      const measured = new Map<string, Array<{ load: WrkResult; cpuUsPerRequest?: number }>>();
      for (let round = 1; round <= rounds; round += 1) {
        for (const { name, url, under } of running) {
          console.error(`round ${round} of ${rounds}, ${name}: wrk -c${connections} -d${seconds}s`);
          const cpuBefore = under && (await groupCpuSeconds(under.processGroup()));
          const load = await wrk(url, seconds);
          const cpuUsPerRequest = under && (((await groupCpuSeconds(under.processGroup())) - cpuBefore!) * 1e6) / load.requests;
          measured.set(name, [...(measured.get(name) ?? []), { load, cpuUsPerRequest }]);
        }
      }
      for (const { name, url, under } of running) {
        const runs = measured.get(name)!;
        // The round of median throughput stands for the plane; CPU per request is the median of the rounds.
        const { load } = [...runs].sort((x, y) => x.load.requestsPerSecond - y.load.requestsPerSecond)[Math.floor(runs.length / 2)]!;
        const cpuUsPerRequest = under ? median(runs.map((r) => r.cpuUsPerRequest!)) : undefined;
        if (!under) {
          rows.push({ name, load });
          continue;
        }
        console.error(`${name}: ${switchCount} switches under wrk`);
        const dp: DataPlane = under.dataPlane;
        const switchSeconds = Math.ceil((switchCount * switchEveryMs) / 1000) + 2;
        const during = wrk(url, switchSeconds);
        await sleep(1000);
        const results: LiveSwitch[] = [];
        for (let i = 1; i <= switchCount; i += 1) {
          const startedAt = performance.now();
          results.push(await dp.setLive('web', target(i), { drainTimeoutMs: 5_000 }));
          await sleep(Math.max(0, switchEveryMs - (performance.now() - startedAt)));
        }
        rows.push({ name, load, cpuUsPerRequest, switches: { wrk: await during, results } });
      }
    } finally {
      for (const { under } of running) await under?.stop();
    }
    if (wanted('rss')) memory = await routerMemory(dir, backends[0]!.port);
  } finally {
    await killStartedGroups();
    await rm(dir, { recursive: true, force: true });
  }

  const direct = rows[0]!.load.requestsPerSecond;
  const nginxRow = rows.find((r) => r.name === 'nginx');
  const nginx = nginxRow?.load.requestsPerSecond ?? NaN;
  const nginxCpu = nginxRow?.cpuUsPerRequest ?? NaN;
  const [load1] = (await readFile('/proc/loadavg', 'utf8')).split(' ');
  const fmt = (n: number, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');
  const table = [
    [
      '',
      'req/s',
      'x direct',
      'x nginx',
      'CPU us/req',
      'x nginx (CPU)',
      'p50 ms',
      'p99 ms',
      `errors in ${switchCount} switches`,
      'applied ms (p50)',
      'drained ms (p50)',
    ],
    ...rows.map((r) => [
      r.name,
      fmt(r.load.requestsPerSecond),
      fmt(r.load.requestsPerSecond / direct, 2),
      r.name === 'direct' ? '' : fmt(r.load.requestsPerSecond / nginx, 2),
      r.cpuUsPerRequest === undefined ? '' : fmt(r.cpuUsPerRequest),
      r.cpuUsPerRequest === undefined ? '' : fmt(nginxCpu / r.cpuUsPerRequest, 2),
      fmt(r.load.p50Ms, 2),
      fmt(r.load.p99Ms, 2),
      r.switches ? switchErrors(r.switches.wrk) : '',
      r.switches ? fmt(median(r.switches.results.map((s) => s.applyMs))) : '',
      r.switches ? fmt(median(r.switches.results.map((s) => s.drainMs))) : '',
    ]),
  ];
  const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, col) => cell.padEnd(widths[col]!)).join(' | ')} |`;
  const backend = backendKind === 'static' ? 'nginx static' : 'Node';
  console.log(
    `\nwrk -t2 -c${connections} -d${seconds}s, ${rounds} rounds taking turns (the median shown); ${backend} backend on CPU 0, each proxy on CPU 1;`,
  );
  console.log(`load average ${load1} at the end (the other processes of the machine share these CPUs);`);
  console.log(`${switchCount} switches every ${switchEveryMs} ms at saturation;`);
  console.log("CPU us/req: CPU time of the proxy's processes per request (steady under load); x nginx (CPU): nginx's over it\n");
  console.log(line(table[0]!));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const row of table.slice(1)) console.log(line(row));
  const atRest = rows.filter((r) => r.load.errors > 0);
  if (atRest.length > 0) console.log('\nerrors at rest:', atRest.map((r) => `${r.name}: ${r.load.errorDetail}`).join('; '));
  if (memory) {
    const { environments, listeners, requests, rssMb, peakMb, runs } = memory;
    const what = `one built-in router (${runs}) serving ${environments} environments (${listeners} listeners)`;
    console.log(`\n${what}, after ${requests} requests through all of them:`);
    console.log(`RSS ${rssMb.toFixed(0)} MB (peak ${peakMb.toFixed(0)} MB)`);
  }
}

interface RouterMemory {
  environments: number;
  listeners: number;
  requests: number;
  rssMb: number;
  peakMb: number;
  /** compiled (dist/, after npm run build) or tsx */
  runs: string;
}

/** One router process for 100 environments of one site each, every live route on `backendPort`; its RSS after traffic. */
async function routerMemory(dir: string, backendPort: number, environments = 100, requestsEach = 20): Promise<RouterMemory> {
  console.error(`router RSS: one router serving ${environments} environments, ${requestsEach} requests through each public listener`);
  const adminPort = await distinctFreePort();
  const names = Array.from({ length: environments }, (_, i) => `env${i}`);
  const sites = new Map<string, number>();
  const lines = [`stateDir: ${join(dir, 'rss')}`, 'environments:'];
  for (const name of names) {
    const [publicPort, previewPort] = [await distinctFreePort(), await distinctFreePort()];
    sites.set(name, publicPort);
    const site = `{ name: web, role: zdd, publicPort: ${publicPort}, previewPort: ${previewPort} }`;
    lines.push(`  ${name}: { router: { adminPort: ${adminPort} }, sites: [${site}] }`);
  }
  const configFile = join(dir, 'rss.yaml');
  await writeFile(configFile, `${lines.join('\n')}\n`);
  const token = randomBytes(32).toString('hex');
  const compiled = join('dist', 'src', 'platform', 'router', 'main.js');
  const sources = readdirSync(join('src', 'platform', 'router')).map((file) => statSync(join('src', 'platform', 'router', file)).mtimeMs);
  // A build older than the router's sources would measure other code: tsx then.
  const runs = existsSync(compiled) && statSync(compiled).mtimeMs > Math.max(...sources) ? 'compiled' : 'tsx';
  const entry = runs === 'compiled' ? [compiled] : ['--import', 'tsx', 'src/platform/router/main.ts'];
  const env = { ...process.env, CUTOVER_ROUTER_TOKEN: token };
  const proc = spawnGroup(process.execPath, [...entry, '--host', 'local', '--config', configFile], { env, cpu: 1 });
  try {
    const url = `http://127.0.0.1:${adminPort}`;
    const client = (environment: string) => createRouterClient({ url, environment, token, tokenEnv: 'CUTOVER_ROUTER_TOKEN' });
    await waitUntil('the router of 100 environments serves its admin API', async () => (await client('env0').health()).ok, proc);
    for (const name of names) await client(name).setLive('web', { kind: 'slot', slotId: `${name}-a`, port: backendPort });
    const through = async (name: string) => {
      for (let i = 0; i < requestsEach; i += 1) {
        const response = await fetch(`http://127.0.0.1:${sites.get(name)}/`);
        await response.arrayBuffer();
        if (!response.ok) throw new Error(`${name}: HTTP ${response.status}`);
      }
    };
    // Ten clients at a time, each through its own listeners.
    for (let i = 0; i < names.length; i += 10) await Promise.all(names.slice(i, i + 10).map(through));
    const status = await readFile(`/proc/${proc.child.pid}/status`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    const [rssMb, peakMb] = [kb('VmRSS') / 1024, kb('VmHWM') / 1024];
    return { environments, listeners: environments * 2, requests: environments * requestsEach, rssMb, peakMb, runs };
  } finally {
    await proc.crash();
  }
}

await main();
