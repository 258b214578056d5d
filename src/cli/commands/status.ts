import { printJson, println, type CliContext } from '../context.js';
import { CliError, exitCodes, type ExitCode } from '../exit-codes.js';
import { failureLines, formatDuration } from '../progress.js';
import type { Deployment, DeploymentList } from '../types.js';

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** "reset (code and database) by alice". */
function describeDecision(decision: NonNullable<Deployment['decision']>): string {
  const what = decision.action !== 'reset' ? '' : decision.rollbackDatabase ? ' (code and database)' : ' (code only)';
  return `${decision.action}${what}${decision.requestedBy ? ` by ${decision.requestedBy}` : ''}`;
}

/** readwrite-replay: the clone's writes on the originals, and the first conflicts (table, key, reason). */
function replayLines(replay: NonNullable<Deployment['replay']>): string[] {
  const final = replay.final ? ', final replay done' : '';
  return [
    `  replay       ${replay.applied} clone writes applied, ${replay.conflictCount} conflicts${final}`,
    ...replay.conflicts.map((c) => `    conflict   ${c.database} ${c.table} ${JSON.stringify(c.key)} ${c.op}: ${c.reason}`),
  ];
}

function showDeployment(ctx: CliContext, d: Deployment): void {
  const lines = [
    `Deployment ${d.deploymentId}`,
    `  environment  ${d.environment} (mode ${d.mode})`,
    `  package      ${d.package.name} ${d.package.version} (sha256:${d.package.sha256.slice(0, 12)}…)`,
    `  previous     ${d.previousPackage ? d.previousPackage.version : 'none (first deployment)'}`,
    `  phase        ${d.phase}`,
    `  actions      ${d.actions.length ? d.actions.join(', ') : 'none'}`,
    ...(d.decision ? [`  decision     ${describeDecision(d.decision)}`] : []),
    ...d.sites.map(
      (s) => `  site ${s.name.padEnd(8)} ${s.state}${s.serving ? `, serving ${s.serving}` : ''}${s.error ? ` — ${s.error}` : ''}`,
    ),
    ...Object.entries(d.links.previews).map(([site, url]) => `  preview      ${site} ${url}`),
    ...Object.entries(d.links.publics).map(([site, url]) => `  public       ${site} ${url}`),
    '  phases',
    ...d.timings.map(
      (t) =>
        `    ${t.phase.padEnd(22)} ` +
        (t.endedAt ? formatDuration(Date.parse(t.endedAt) - Date.parse(t.startedAt)) : 'since ' + t.startedAt.slice(11, 19)),
    ),
    ...(d.failure ? ['  failure', ...failureLines(d.failure)] : []),
    ...(d.replay ? replayLines(d.replay) : []),
    ...d.warnings.map((w) => `  warning      ${w}`),
    `  temporal     ${d.links.temporalUi}`,
  ];
  println(ctx.out, lines.join('\n'));
}

export async function status(
  ctx: CliContext,
  args: string[],
  options: { environment?: string; phase?: string; limit?: string },
): Promise<ExitCode> {
  const [id, ...extra] = args;
  if (extra.length > 0) throw new CliError('status takes at most one deployment id', exitCodes.usage);
  if (id) {
    const deployment = await ctx.api.get<Deployment>(`/v1/deployments/${encodeURIComponent(id)}`);
    if (ctx.json) printJson(ctx, deployment);
    else showDeployment(ctx, deployment);
    return exitCodes.ok;
  }
  const query = new URLSearchParams();
  if (options.environment) query.set('environment', options.environment);
  if (options.phase) query.set('phase', options.phase);
  query.set('pageSize', options.limit ?? '20');
  const list = await ctx.api.get<DeploymentList>(`/v1/deployments?${query}`);
  if (ctx.json) printJson(ctx, list);
  else if (list.deployments.length === 0) println(ctx.out, 'No deployments.');
  else {
    const rows = list.deployments.map((d) => [
      d.deploymentId,
      d.environment ?? '',
      d.phase ?? '',
      d.packageVersion ?? '',
      d.mode ?? '',
      d.execution,
      d.startedAt ?? '',
    ]);
    println(ctx.out, table([['ID', 'ENVIRONMENT', 'PHASE', 'VERSION', 'MODE', 'WORKFLOW', 'STARTED'], ...rows]));
  }
  return exitCodes.ok;
}
