import { open } from 'node:fs/promises';

/** Written by the agent before each start, so a tail can skip the output of earlier runs of the same slot. */
export const START_MARKER = '=== cutover: starting slot';

/** Bounded read: a slot's log may be huge, only its end matters. */
const MAX_TAIL_BYTES = 256 * 1024;
export const MAX_TAIL_LINES = 1000;

export function startMarkerLine(slotId: string, version: string, at: string): string {
  return `${START_MARKER} ${slotId} (version ${version}) at ${at} ===\n`;
}

/** The last `lines` lines of a log file ('' when it does not exist); sinceLastStart drops lines of earlier runs. */
export async function readLogTail(file: string, lines: number, options: { sinceLastStart?: boolean } = {}): Promise<string> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const { size } = await handle.stat();
      const length = Math.min(size, MAX_TAIL_BYTES);
      const buffer = Buffer.alloc(length);
      await handle.read(buffer, 0, length, size - length);
      text = buffer.toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
  let all = text.split('\n');
  if (all.at(-1) === '') all.pop();
  if (options.sinceLastStart) {
    const marker = all.findLastIndex((line) => line.startsWith(START_MARKER));
    if (marker >= 0) all = all.slice(marker + 1);
  }
  const count = Math.max(0, Math.min(Math.floor(lines), MAX_TAIL_LINES));
  return count === 0 ? '' : all.slice(-count).join('\n');
}
