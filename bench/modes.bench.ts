/**
 * Writes during a deployment, mode by mode, side by side in one run: under one steady writer (and readers), how
 * long writes were refused, how many accepted writes the final database lacks, and the time to Complete.
 *   npm run bench:modes [-- --write-every-ms 20]
 */
import { startTestStack, type TestStack } from '../test/support/stack.js';
import { printTable, startBenchServices } from './services.js';
import { startTraffic } from '../test/support/traffic.js';

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const writeEveryMs = arg('write-every-ms', 20);

/** Each mode from the same start: what is live before, and the package the measured deployment brings. */
const cases = [
  { mode: 'readonly', live: ['examples/demo-app/v1'], next: 'examples/demo-app/v2' },
  { mode: 'readwrite', live: ['examples/demo-app/v1'], next: 'examples/demo-app/v2' },
  { mode: 'readwrite-replay', live: ['examples/demo-app/v1'], next: 'examples/demo-app/v2' },
  { mode: 'expand-contract', live: ['examples/demo-app/v1', 'examples/demo-app/v2'], next: 'examples/demo-app/v3' },
];

async function measure(stack: TestStack, mode: string, pkg: string): Promise<string[]> {
  const traffic = startTraffic(stack.publicUrl(), { readers: 2, writeEveryMs });
  const t0 = performance.now();
  let id: string;
  try {
    id = await stack.deploy(pkg, mode);
  } catch (error) {
    await traffic.stop();
    return [`refused: ${(error as Error).message.slice(0, 80)}`, '', '', '', ''];
  }
  await stack.waitForPhase(id, ['awaiting-verification'], 300_000);
  await stack.api('POST', `/v1/deployments/${id}/complete`, {});
  await stack.waitForPhase(id, ['completed'], 300_000);
  const completeMs = performance.now() - t0;
  await new Promise((r) => setTimeout(r, 500));
  const report = await traffic.stop();
  const stored = new Set((await stack.sql<{ body: string }>("select body from notes where body like 'traffic-%'")).map((r) => r.body));
  const lost = report.acceptedWrites.filter((b) => !stored.has(b)).length;
  const refused = report.refusedWrites;
  const refusedSeconds = refused.length ? (refused.at(-1)!.at - refused[0]!.at + writeEveryMs) / 1000 : 0;
  return [
    `${report.acceptedWrites.length} / ${refused.length} / ${report.failedWrites.length}`,
    `${refusedSeconds.toFixed(1)} s`,
    String(lost),
    String(report.failedReads.length),
    `${(completeMs / 1000).toFixed(1)} s`,
  ];
}

async function main() {
  const bench = await startBenchServices();
  const rows: Array<[string, string]> = [['mode', 'writes accepted / refused / failed | refused for | lost | failed reads | to Complete']];
  try {
    for (const c of cases) {
      const stack = await startTestStack({ services: bench.services });
      try {
        for (const pkg of c.live) await stack.deployAndComplete(pkg);
        rows.push([c.mode, (await measure(stack, c.mode, c.next)).join(' | ')]);
      } catch (error) {
        rows.push([c.mode, `error: ${(error as Error).message.split('\n')[0]!.slice(0, 120)}`]);
      } finally {
        await stack.close();
      }
    }
  } finally {
    await bench.stop();
  }
  printTable(`Cutover benchmark: writes during one deployment, by mode (one writer every ${writeEveryMs} ms, two readers)`, rows);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
