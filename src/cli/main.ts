/** `cutover`: deployments from a terminal or a CI pipeline, through the HTTP API. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { complete, reset } from './commands/decide.js';
import { deploy } from './commands/deploy.js';
import { environments } from './commands/environments.js';
import { logs } from './commands/logs.js';
import { status } from './commands/status.js';
import type { CliContext } from './context.js';
import { CliError, exitCodes, type ExitCode } from './exit-codes.js';
import { createApiClient } from './http.js';
import type { Output } from './progress.js';
import { usage } from './usage.js';

type Options = NonNullable<ParseArgsConfig['options']>;

const globalOptions: Options = {
  api: { type: 'string' },
  token: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const wait: Options = { wait: { type: 'boolean' } };
const requestedBy: Options = { 'requested-by': { type: 'string' } };

/* eslint-disable @typescript-eslint/no-explicit-any -- each command reads the options its own spec declares */
const commands: Record<string, { options: Options; run: (ctx: CliContext, args: string[], options: any) => Promise<ExitCode> }> = {
  deploy: {
    options: {
      mode: { type: 'string' },
      'allow-missing-migrations': { type: 'boolean' },
      strategy: { type: 'string' },
      'max-unavailable': { type: 'string' },
      ...wait,
      ...requestedBy,
    },
    run: deploy,
  },
  status: { options: { environment: { type: 'string' }, phase: { type: 'string' }, limit: { type: 'string' } }, run: status },
  complete: { options: { ...wait, ...requestedBy }, run: complete },
  reset: { options: { 'rollback-database': { type: 'boolean' }, ...wait, ...requestedBy }, run: reset },
  logs: { options: { follow: { type: 'boolean' } }, run: logs },
  environments: { options: {}, run: environments },
};
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface CliIo {
  stdout: Output;
  stderr: Output;
  env: NodeJS.ProcessEnv;
}

function parse(argv: string[]) {
  // First pass knows every option, so option values are not mistaken for the command.
  const all = Object.assign({}, globalOptions, ...Object.values(commands).map((c) => c.options)) as Options;
  const loose = parseArgs({ args: argv, options: all, allowPositionals: true, strict: false });
  const name = loose.positionals[0];
  const command = name ? commands[name] : undefined;
  if (loose.values.help || !name) return { help: true as const };
  if (!command) throw new CliError(`unknown command "${name}"; see cutover --help`, exitCodes.usage);
  try {
    const strict = parseArgs({ args: argv, options: { ...globalOptions, ...command.options }, allowPositionals: true, strict: true });
    return { help: false as const, command, args: strict.positionals.slice(1), values: strict.values };
  } catch (error) {
    throw new CliError(`${(error as Error).message.split('\n')[0]}; see cutover --help`, exitCodes.usage);
  }
}

/** Runs one command line; resolves with the exit code (never throws, never exits). */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, env: process.env },
): Promise<ExitCode> {
  try {
    const parsed = parse(argv);
    if (parsed.help) {
      io.stdout.write(usage);
      return argv.length === 0 ? exitCodes.usage : exitCodes.ok;
    }
    const values = parsed.values as Record<string, string | boolean | undefined>;
    const api = createApiClient({
      baseUrl: (values.api as string | undefined) ?? io.env.CUTOVER_API_URL ?? 'http://127.0.0.1:7300',
      token: (values.token as string | undefined) ?? (io.env.CUTOVER_TOKEN || undefined),
    });
    const pollMs = Number(io.env.CUTOVER_POLL_MS) > 0 ? Number(io.env.CUTOVER_POLL_MS) : 500;
    const ctx: CliContext = { api, out: io.stdout, err: io.stderr, json: values.json === true, pollMs };
    return await parsed.command.run(ctx, parsed.args, values);
  } catch (error) {
    if (error instanceof CliError) {
      io.stderr.write(`cutover: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`cutover: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return exitCodes.unreachable;
  }
}
