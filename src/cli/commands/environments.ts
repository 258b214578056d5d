import { printJson, println, type CliContext } from '../context.js';
import { CliError, exitCodes, type ExitCode } from '../exit-codes.js';
import type { EnvironmentList } from '../types.js';
import { table } from './status.js';

export async function environments(ctx: CliContext, args: string[]): Promise<ExitCode> {
  if (args.length > 0) throw new CliError('environments takes no arguments', exitCodes.usage);
  const list = await ctx.api.get<EnvironmentList>('/v1/environments');
  if (ctx.json) printJson(ctx, list);
  else if (list.environments.length === 0) println(ctx.out, 'No environments this token may see.');
  else {
    const rows = list.environments.map((e) => [
      e.name,
      e.host,
      e.sites.map((s) => `${s.name} (${s.role}) ${s.publicUrl}`).join(', '),
      e.databases.map((d) => `${d.name} (${d.engine})`).join(', ') || '-',
    ]);
    println(ctx.out, table([['NAME', 'HOST', 'SITES', 'DATABASES'], ...rows]));
  }
  return exitCodes.ok;
}
