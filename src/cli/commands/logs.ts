import { println, sleep, type CliContext } from '../context.js';
import { CliError, exitCodes, type ExitCode } from '../exit-codes.js';
import { readEvents } from '../sse.js';
import type { LogLine } from '../types.js';

const RECONNECTS = 5;

const formatLine = (l: LogLine) => `${l.at} ${l.level.toUpperCase().padEnd(5)} ${l.message}`;

/** Follows the log as server-sent events; a dropped stream is resumed from the last line seen. */
async function follow(ctx: CliContext, id: string): Promise<ExitCode> {
  let lastEventId: string | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await ctx.api.request('GET', `/v1/deployments/${encodeURIComponent(id)}/log?follow=true`, {
        headers: { accept: 'text/event-stream', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
      });
      for await (const event of readEvents(response.body!)) {
        if (event.id) lastEventId = event.id;
        if (event.event === 'line') {
          const line = JSON.parse(event.data) as LogLine;
          println(ctx.out, ctx.json ? JSON.stringify(line) : formatLine(line));
        } else if (event.event === 'end') {
          const { phase } = JSON.parse(event.data) as { phase: string };
          return phase === 'completed' ? exitCodes.ok : exitCodes.deploymentFailed;
        } else if (event.event === 'error') {
          const { error } = JSON.parse(event.data) as { error: { message: string } };
          throw new CliError(error.message, exitCodes.unreachable);
        }
      }
    } catch (error) {
      // Only a lost connection is worth another try; what the API refused stays refused.
      if (error instanceof CliError && error.exitCode !== exitCodes.unreachable) throw error;
      if (attempt >= RECONNECTS)
        throw error instanceof CliError ? error : new CliError(`the log stream broke: ${(error as Error).message}`, exitCodes.unreachable);
    }
    if (attempt >= RECONNECTS) throw new CliError('the log stream kept ending before the deployment did', exitCodes.unreachable);
    await sleep(ctx.pollMs);
  }
}

export async function logs(ctx: CliContext, args: string[], options: { follow?: boolean }): Promise<ExitCode> {
  const [id, ...extra] = args;
  if (!id || extra.length > 0) throw new CliError('logs needs exactly one deployment id: cutover logs <id> [--follow]', exitCodes.usage);
  if (options.follow) return follow(ctx, id);
  ctx.out.write(await ctx.api.text(`/v1/deployments/${encodeURIComponent(id)}/log`));
  return exitCodes.ok;
}
