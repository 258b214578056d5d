/** Complete and Reset: the decision of a person (or a pipeline) on a deployment awaiting verification. */
import { printJson, println, type CliContext } from '../context.js';
import { CliError, exitCodes, type ExitCode } from '../exit-codes.js';
import type { Deployment } from '../types.js';
import { decisionJudge, waitForDeployment } from '../wait.js';
import { describeOutcome } from './deploy.js';

interface DecideOptions {
  wait?: boolean;
  'rollback-database'?: boolean;
  'requested-by'?: string;
}

async function decide(ctx: CliContext, action: 'complete' | 'reset', args: string[], options: DecideOptions): Promise<ExitCode> {
  const [id, ...extra] = args;
  if (!id || extra.length > 0) throw new CliError(`${action} needs exactly one deployment id: cutover ${action} <id>`, exitCodes.usage);
  const requestedBy = options['requested-by'] ? { requestedBy: options['requested-by'] } : {};
  const body = action === 'reset' ? { rollbackDatabase: options['rollback-database'] === true, ...requestedBy } : requestedBy;
  const accepted = await ctx.api.post<Deployment>(`/v1/deployments/${encodeURIComponent(id)}/${action}`, body);
  if (!options.wait) {
    if (ctx.json) printJson(ctx, accepted);
    else println(ctx.out, `${action === 'complete' ? 'Complete' : 'Reset'} accepted: ${id} is ${accepted.phase}`);
    return exitCodes.ok;
  }
  const { status, outcome } = await waitForDeployment(ctx, id, decisionJudge(accepted, action === 'complete' ? 'completed' : 'reset'));
  if (ctx.json) printJson(ctx, status);
  else describeOutcome(ctx, status);
  return outcome === 'ok' ? exitCodes.ok : exitCodes.deploymentFailed;
}

export const complete = (ctx: CliContext, args: string[], options: DecideOptions) => decide(ctx, 'complete', args, options);
export const reset = (ctx: CliContext, args: string[], options: DecideOptions) => decide(ctx, 'reset', args, options);
