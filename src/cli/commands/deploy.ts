import { printJson, println, type CliContext } from '../context.js';
import { CliError, exitCodes, type ExitCode } from '../exit-codes.js';
import { packageReference } from '../package-upload.js';
import type { Deployment, DeploymentAccepted } from '../types.js';
import { waitForDeployment } from '../wait.js';

const modes = ['readonly', 'readwrite', 'maintenance-page', 'expand-contract', 'readwrite-replay'];

export function describeOutcome(ctx: CliContext, status: Deployment): void {
  const id = status.deploymentId;
  if (status.phase === 'awaiting-verification') {
    println(ctx.out, `Awaiting verification: ${status.package.name} ${status.package.version} answers on its preview address.`);
    for (const [site, url] of Object.entries(status.links.previews)) println(ctx.out, `  preview ${site}: ${url}`);
    for (const [site, url] of Object.entries(status.links.publics)) println(ctx.out, `  public  ${site}: ${url}`);
    println(ctx.out, `Decide: cutover complete ${id}   or   cutover reset ${id} [--rollback-database]`);
  } else if (status.phase === 'completed') {
    println(ctx.out, `Completed: ${status.package.name} ${status.package.version} is live on ${status.environment}.`);
  } else if (status.phase === 'reset') {
    const back = status.previousPackage ? `${status.previousPackage.version} is back` : 'the environment is back as it was';
    println(ctx.out, `Reset: ${back} on ${status.environment}.`);
  } else if (status.phase === 'rolled-back') {
    const back = status.previousPackage?.version ?? 'the previous version';
    println(
      ctx.out,
      `Rolled back automatically after Complete: ${back} serves ${status.environment} again (code only). Log: cutover logs ${id}`,
    );
  } else if (status.phase === 'failed') {
    println(ctx.out, `Failed.${status.actions.includes('reset') ? ` Reset is available: cutover reset ${id} [--rollback-database]` : ''}`);
    println(ctx.out, `Log: cutover logs ${id}`);
  }
}

interface DeployOptions {
  mode?: string;
  wait?: boolean;
  'requested-by'?: string;
  'allow-missing-migrations'?: boolean;
  strategy?: string;
  'max-unavailable'?: string;
}

export async function deploy(ctx: CliContext, args: string[], options: DeployOptions): Promise<ExitCode> {
  const [environment, pkg, ...extra] = args;
  if (!environment || !pkg || extra.length > 0)
    throw new CliError(
      'deploy needs <environment> and <package>: cutover deploy <environment> <package> [--mode <mode>] [--wait]',
      exitCodes.usage,
    );
  if (options.mode !== undefined && !modes.includes(options.mode))
    throw new CliError(`--mode must be one of ${modes.join(', ')}`, exitCodes.usage);
  if (options.strategy !== undefined && !['smooth', 'rolling'].includes(options.strategy))
    throw new CliError('--strategy must be smooth or rolling', exitCodes.usage);
  const maxUnavailable = options['max-unavailable'] === undefined ? undefined : Number(options['max-unavailable']);
  if (maxUnavailable !== undefined && !(Number.isInteger(maxUnavailable) && maxUnavailable >= 1))
    throw new CliError(`--max-unavailable must be a whole number of hosts, at least 1, got ${options['max-unavailable']}`, exitCodes.usage);
  const reference = await packageReference(ctx, pkg);
  const accepted = await ctx.api.post<DeploymentAccepted>(`/v1/environments/${encodeURIComponent(environment)}/deployments`, {
    package: reference,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options['requested-by'] ? { requestedBy: options['requested-by'] } : {}),
    ...(options['allow-missing-migrations'] ? { allowMissingMigrations: true } : {}),
    ...(options.strategy ? { strategy: options.strategy } : {}),
    ...(maxUnavailable !== undefined ? { maxUnavailable } : {}),
  });
  if (!options.wait) {
    if (ctx.json) printJson(ctx, accepted);
    else println(ctx.out, accepted.deploymentId);
    return exitCodes.ok;
  }
  if (!ctx.json)
    println(ctx.out, `Deployment ${accepted.deploymentId} of ${reference} to ${environment} started (${accepted.links.temporalUi})`);
  const { status, outcome } = await waitForDeployment(ctx, accepted.deploymentId, (s) =>
    s.phase === 'awaiting-verification' || s.phase === 'completed' ? 'ok' : s.phase === 'failed' || s.phase === 'reset' ? 'failed' : null,
  );
  if (ctx.json) printJson(ctx, status);
  else describeOutcome(ctx, status);
  return outcome === 'ok' ? exitCodes.ok : exitCodes.deploymentFailed;
}
