/** Stops what `npm start` started, traffic-serving processes last. */
import { readdirSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../config/load.js';
import { stopProcess } from './processes.js';

const config = loadConfig(process.argv.find((a, i) => process.argv[i - 1] === '--config'));
const runDir = join(config.stateDir, 'run');
const names = existsSync(runDir) ? readdirSync(runDir).filter((f) => f.endsWith('.pid')).map((f) => f.slice(0, -4)) : [];
const order = (name: string) => (name === 'api' ? 0 : name === 'worker' ? 1 : name.startsWith('agent-') ? 2 : name.startsWith('router-') ? 3 : name === 'temporal' ? 4 : 5);
const stop = async (name: string) => {
  // PostgreSQL's fast shutdown (SIGINT) disconnects clients instead of waiting for them.
  const stopped = await stopProcess(config.stateDir, name, 15_000, name === 'postgres' ? 'SIGINT' : 'SIGTERM');
  console.log(`${name}: ${stopped ? 'stopped' : 'was not running'}`);
};
const sorted = names.sort((a, b) => order(a) - order(b));
for (const name of sorted.filter((n) => order(n) <= 2)) await stop(name);
// Slots are detached so that they outlive the agent; stopping the whole stack stops them too.
const hostsDir = join(config.stateDir, 'hosts');
for (const host of existsSync(hostsDir) ? readdirSync(hostsDir) : []) {
  const slotsDir = join(hostsDir, host, 'slots');
  for (const file of existsSync(slotsDir) ? readdirSync(slotsDir).filter((f) => f.endsWith('.json')) : []) {
    const { pid, slotId } = JSON.parse(readFileSync(join(slotsDir, file), 'utf8')) as { pid?: number; slotId?: string };
    if (!pid) continue;
    try {
      process.kill(-pid, 'SIGTERM');
      console.log(`slot ${slotId}: stopped`);
    } catch {
      // already gone
    }
  }
}
for (const name of sorted.filter((n) => order(n) > 2)) await stop(name);
