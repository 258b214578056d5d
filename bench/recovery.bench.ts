/**
 * How fast a deployment moves on after its worker or host agent is SIGKILLed mid-step and restarted:
 * the heartbeat timeout notices the dead process, the step is retried on the new one.
 *   npm run bench:recovery
 */
import { crashAndRecover, type CrashScenario } from '../test/support/recovery.js';
import { startTestStack } from '../test/support/stack.js';
import { printTable, startBenchServices } from './services.js';

const scenarios: Array<[string, CrashScenario]> = [
  ['worker killed in clone', { process: 'worker', crashAt: 'cloneDatabase' }],
  ['worker killed in upgrade', { process: 'worker', crashAt: 'applyMigrations' }],
  ['host agent killed in upgrade', { process: 'agent', crashAt: 'startSlot#2' }],
];

async function main() {
  const bench = await startBenchServices();
  // The default step timeout (60 s) and heartbeat timeout (5 s), as an operator gets them.
  const stack = await startTestStack({
    services: bench.services,
    workerProcess: true,
    agentProcess: true,
    timeouts: { step: '60s', heartbeat: '5s' },
  });
  const rows: Array<[string, string]> = [];
  try {
    await stack.deployAndComplete('examples/demo-app/v1');
    for (const [name, scenario] of scenarios) {
      const r = await crashAndRecover(stack, scenario, 'examples/demo-app/v2');
      const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
      rows.push([
        `${name} (${r.phase})`,
        `back up after ${s(r.killToReadyMs)}, step retried ${s(r.readyToRetryMs)} after that (${s(r.killToRetryMs)} after the kill; noticed by ${r.timeoutType.replace('TIMEOUT_TYPE_', '').toLowerCase()})`,
      ]);
      await stack.api('POST', `/v1/deployments/${r.deploymentId}/reset`, { rollbackDatabase: true });
      await stack.waitForPhase(r.deploymentId, ['reset'], 120_000);
    }
    printTable('Cutover benchmark: recovery after a crash (heartbeat timeout 5 s, step timeout 60 s)', rows);
  } finally {
    await stack.close();
    await bench.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
