/**
 * One full deployment of the demo (v1 live → v2, Complete) under steady load, on a real Temporal dev server
 * and a throwaway PostgreSQL cluster. Prints a table of figures; ratios are measured within the one run.
 *   npm run bench [-- --readers 8 --rest-seconds 5]
 */
import { Agent, request } from 'node:http';
import { startTestStack } from '../test/support/stack.js';
import { printTable, startBenchServices } from './services.js';
import { percentile, startTraffic, type TrafficReport } from '../test/support/traffic.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const readers = arg('readers', 8);
const restSeconds = arg('rest-seconds', 5);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Read latency hitting a URL directly, for the router-vs-direct ratio. */
async function sampleLatency(url: string, count: number): Promise<number[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: readers });
  const times: number[] = [];
  const one = () =>
    new Promise<void>((resolve, reject) => {
      const t0 = performance.now();
      request(url, { agent }, (res) => {
        res.resume();
        res.on('end', () => {
          times.push(performance.now() - t0);
          resolve();
        });
      })
        .on('error', reject)
        .end();
    });
  for (let i = 0; i < count; i += readers) await Promise.all(Array.from({ length: Math.min(readers, count - i) }, one));
  agent.destroy();
  return times;
}

const ms = (n: number) => (Number.isFinite(n) ? `${n.toFixed(1)} ms` : 'n/a');

async function main() {
  const bench = await startBenchServices();
  const stack = await startTestStack({ services: bench.services });
  try {
    const v1 = await stack.deploy('examples/demo-app/v1');
    await stack.waitForPhase(v1, ['awaiting-verification']);
    await stack.api('POST', `/v1/deployments/${v1}/complete`, {});
    await stack.waitForPhase(v1, ['completed']);
    await stack.sql("insert into notes (body) select 'seed ' || g from generate_series(1, 2000) g");

    // The router against a direct connection to the same slot, in the same run.
    const liveSlot = (await stack.api('GET', `/v1/environments/${stack.environment}`)).body.sites[0].slotId as string;
    const port = (await stack.router.environments[stack.environment]!.switchboard.routes('web')).live;
    const slotPort = port && port.kind === 'slot' ? port.port : 0;
    const directUrl = `http://127.0.0.1:${slotPort}/notes`;
    const routedUrl = `${stack.publicUrl()}/notes`;
    await sampleLatency(directUrl, 500); // warm both paths, then alternate batches so order favours neither
    await sampleLatency(routedUrl, 500);
    const direct: number[] = [];
    const routed: number[] = [];
    for (let round = 0; round < 4; round++) {
      direct.push(...(await sampleLatency(directUrl, 500)));
      routed.push(...(await sampleLatency(routedUrl, 500)));
    }

    const rest = startTraffic(stack.publicUrl(), { readers, writeEveryMs: 20 });
    await sleep(restSeconds * 1000);
    const atRest = await rest.stop();

    const during = startTraffic(stack.publicUrl(), { readers, writeEveryMs: 20 });
    const firstV2 = watchFirstVersion(during.report, '2.0.0');
    const deployedAt = performance.now();
    const v2 = await stack.deploy('examples/demo-app/v2');
    await stack.waitForPhase(v2, ['awaiting-verification'], 300_000);
    const decidedAt = performance.now();
    await stack.api('POST', `/v1/deployments/${v2}/complete`, {});
    const firstServed = await firstV2;
    const done = await stack.waitForPhase(v2, ['completed'], 300_000);
    await sleep(500);
    const load = await during.stop();
    const totalMs = performance.now() - deployedAt;

    const rows: Array<[string, string]> = [
      ['live slot before', liveSlot],
      ['readers (concurrency)', String(readers)],
      ['requests during the deployment', String(load.reads + load.writes)],
      ['reads during the deployment', String(load.reads)],
      ['failed reads', String(load.failedReads.length)],
      [
        'writes accepted / refused read-only / failed',
        `${load.acceptedWrites.length} / ${load.refusedWrites.length} / ${load.failedWrites.length}`,
      ],
      ['read p50 at rest', ms(percentile(atRest.readLatenciesMs, 50))],
      ['read p99 at rest', ms(percentile(atRest.readLatenciesMs, 99))],
      ['read p50 during the deployment', ms(percentile(load.readLatenciesMs, 50))],
      ['read p99 during the deployment', ms(percentile(load.readLatenciesMs, 99))],
      [
        'p50 through the router / direct to the slot',
        `${ms(percentile(routed, 50))} / ${ms(percentile(direct, 50))} = ${(percentile(routed, 50) / percentile(direct, 50)).toFixed(2)}x`,
      ],
      [
        'p99 through the router / direct to the slot',
        `${ms(percentile(routed, 99))} / ${ms(percentile(direct, 99))} = ${(percentile(routed, 99) / percentile(direct, 99)).toFixed(2)}x`,
      ],
      ...(done.timings as Array<{ phase: string; startedAt: string; endedAt?: string }>).map((t): [string, string] => [
        `phase ${t.phase}`,
        t.endedAt ? ms(Date.parse(t.endedAt) - Date.parse(t.startedAt)) : 'n/a',
      ]),
      ['Complete accepted → first request served by the new slot', ms(firstServed - decidedAt)],
      ['whole deployment (request → completed, incl. the Complete call)', ms(totalMs)],
    ];
    printTable('Cutover benchmark: one deployment of the demo (v1 → v2, readonly) under load', rows);
    if (load.failedReads.length > 0) process.exitCode = 1;
  } finally {
    await stack.close();
    await bench.stop();
  }
}

/** Resolves with the time of the first read answered by `version`. */
function watchFirstVersion(report: TrafficReport, version: string): Promise<number> {
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      const at = report.firstSeen.get(version);
      if (at !== undefined) {
        clearInterval(timer);
        resolve(at);
      }
    }, 5);
  });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
