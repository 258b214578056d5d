/**
 * The phases of a deployment while the CLI waits: on a terminal, one line per phase redrawn in place;
 * otherwise (CI logs) one line each time a phase starts, so the log reads top to bottom.
 */
import type { Deployment } from './types.js';
import { terminalPhases } from '../workflows/definitions.js';

export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

export function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  const seconds = Math.round(ms / 1000);
  return seconds < 60 ? `${seconds}s` : `${Math.floor(seconds / 60)}m ${String(seconds % 60).padStart(2, '0')}s`;
}

/** Where a deployment ended, if it did: completed, reset and failed are states, not timed phases. */
function ending(status: Deployment): { phase: string; at: string } | null {
  if (!terminalPhases.includes(status.phase)) return null;
  const last = status.timings.at(-1);
  return { phase: status.phase, at: status.endedAt ?? last?.endedAt ?? last?.startedAt ?? status.startedAt };
}

function phaseLines(status: Deployment, now: number): string[] {
  const lines = status.timings.map((t) => {
    const ended = t.endedAt ? Date.parse(t.endedAt) : undefined;
    const took = formatDuration((ended ?? now) - Date.parse(t.startedAt));
    if (ended !== undefined) return `  ✓ ${t.phase.padEnd(22)} ${took}`;
    return `  ▸ ${t.phase.padEnd(22)} ${took}${t.phase === 'awaiting-verification' ? '' : ' …'}`;
  });
  const end = ending(status);
  if (end) lines.push(`  ${end.phase === 'failed' || end.phase === 'rolled-back' ? '✗' : '✓'} ${end.phase}`);
  return status.failure ? [...lines, ...failureLines(status.failure)] : lines;
}

export function failureLines(failure: NonNullable<Deployment['failure']>): string[] {
  const where = [failure.site && `site ${failure.site}`, failure.database && `database ${failure.database}`].filter(Boolean).join(', ');
  return [`    ${failure.class}${where ? ` (${where})` : ''}: ${failure.message}`, `    what to do: ${failure.remediation}`];
}

const clock = (iso: string) => iso.slice(11, 19);

export function createProgress(out: Output, now: () => number = Date.now) {
  let drawn = 0;
  const printed = new Set<string>();
  let failurePrinted = false;

  return {
    update(status: Deployment) {
      if (out.isTTY) {
        const lines = phaseLines(status, now());
        // Back to the first phase line, clear below, draw again.
        out.write(`${drawn > 0 ? `\x1b[${drawn}F\x1b[J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
        return;
      }
      const end = ending(status);
      for (const { phase, at } of [...status.timings.map((t) => ({ phase: t.phase, at: t.startedAt })), ...(end ? [end] : [])]) {
        const key = `${phase}@${at}`;
        if (printed.has(key)) continue;
        printed.add(key);
        out.write(`${clock(at)} ${phase}\n`);
      }
      if (status.failure && !failurePrinted) {
        failurePrinted = true;
        out.write(`${failureLines(status.failure).join('\n')}\n`);
      }
    },
  };
}
