/**
 * Writes the starting configuration of an environment's HAProxy or nginx from cutover.yaml, into its dataPlane.dir;
 * the routes already there (state file, maps, site files) are kept. Then run the proxy on it, as printed.
 *   npm run data-plane:config -- --environment <name> [--config <path>]
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../../config/load.js';
import type { CutoverConfig } from '../../config/schema.js';
import { runAsProgram } from '../../process/entry-point.js';
import { environmentOf, haproxySetup, nginxSetup } from './for-environment.js';
import { writeHaproxyConfig } from './haproxy/config.js';
import { writeNginxConfig } from './nginx/config.js';

const usage = 'usage: npm run data-plane:config -- --environment <name> [--config <path>]';

export interface WrittenDataPlaneConfig {
  adapter: 'haproxy' | 'nginx';
  /** The generated main config file. */
  config: string;
  /** The command line that runs the proxy on it in the foreground (under a service manager, say). */
  command: string[];
}

export async function writeDataPlaneConfig(config: CutoverConfig, environment: string): Promise<WrittenDataPlaneConfig> {
  const env = environmentOf(config, environment);
  const plane = env.dataPlane;
  if (plane.adapter === 'haproxy') {
    const files = await writeHaproxyConfig(haproxySetup(env));
    return { adapter: 'haproxy', config: files.config, command: [plane.binary, '-db', '-f', files.config] };
  }
  if (plane.adapter === 'nginx') {
    const files = await writeNginxConfig(nginxSetup(env));
    return { adapter: 'nginx', config: files.config, command: [plane.binary, '-p', plane.dir, '-c', files.config, '-g', 'daemon off;'] };
  }
  throw new Error(`environments.${environment}.dataPlane.adapter is builtin: the built-in router needs no generated config`);
}

async function main() {
  let args;
  try {
    args = parseArgs({
      options: { environment: { type: 'string', short: 'e' }, config: { type: 'string', short: 'c' } },
      strict: true,
    }).values;
  } catch (error) {
    console.error(`${(error as Error).message}; ${usage}`);
    process.exit(2);
  }
  if (!args.environment) {
    console.error(`--environment is required; ${usage}`);
    process.exit(2);
  }
  const written = await writeDataPlaneConfig(loadConfig(args.config), args.environment);
  console.log(
    `wrote ${written.config}\nrun ${written.adapter} with: ${written.command.map((a) => (/\s/.test(a) ? `'${a}'` : a)).join(' ')}`,
  );
}

runAsProgram(import.meta.url, main);
