import { createConnection } from 'node:net';
import { DataPlaneUnavailableError } from '../errors.js';

/** HAProxy's runtime API (the admin-level stats socket): one command per connection, its whole answer back. */
export class HaproxyRuntimeApi {
  constructor(
    readonly socketPath: string,
    private readonly timeoutMs = 5_000,
  ) {}

  /** Sends one command; `args` are escaped so spaces and semicolons in them cannot start another command. */
  command(verb: string, ...args: Array<string | number>): Promise<string> {
    const line = [verb, ...args.map((arg) => escapeArgument(String(arg)))].join(' ');
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = createConnection({ path: this.socketPath });
      socket.setTimeout(this.timeoutMs, () =>
        socket.destroy(new DataPlaneUnavailableError(`HAProxy did not answer "${verb}" on ${this.socketPath} within ${this.timeoutMs} ms`)),
      );
      socket.on('connect', () => socket.end(`${line}\n`));
      socket.on('data', (chunk: Buffer) => chunks.push(chunk));
      socket.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error instanceof DataPlaneUnavailableError
            ? error
            : new DataPlaneUnavailableError(`HAProxy runtime API at ${this.socketPath} is unreachable (${error.code ?? error.message})`, {
                cause: error,
              }),
        ),
      );
      socket.on('close', (hadError) => {
        if (!hadError) resolve(Buffer.concat(chunks).toString('utf8'));
      });
    });
  }

  /** A command that answers nothing when it succeeds (set server state/weight, add/set/del map). */
  async expectSilent(verb: string, ...args: Array<string | number>): Promise<void> {
    const answer = (await this.command(verb, ...args)).trim();
    if (answer !== '') throw new DataPlaneUnavailableError(`HAProxy refused "${verb} ${args.join(' ')}": ${answer}`);
  }
}

function escapeArgument(arg: string): string {
  if (arg === '' || /[\r\n]/.test(arg)) throw new Error(`a runtime API argument must be one non-empty line, got ${JSON.stringify(arg)}`);
  return arg.replace(/[\\ ;]/g, (c) => `\\${c}`);
}

/** Rows of a "# name name ..." headed table (show servers state) as records. */
export function parseHeadedTable(text: string, separator: RegExp): Array<Record<string, string>> {
  const lines = text.split('\n').filter((line) => line.trim() !== '');
  const headerIndex = lines.findIndex((line) => line.startsWith('#'));
  if (headerIndex < 0) return [];
  const names = lines[headerIndex]!.replace(/^#\s*/, '').split(separator);
  return lines.slice(headerIndex + 1).map((line) => {
    const values = line.split(separator);
    return Object.fromEntries(names.map((name, i) => [name, values[i] ?? '']));
  });
}

/** Entries of "show map": `0xADDR key value with spaces`. */
export function parseMap(text: string): Map<string, string> {
  const entries = new Map<string, string>();
  for (const line of text.split('\n')) {
    const match = /^0x[0-9a-f]+ (\S+) ?(.*)$/.exec(line);
    if (match) entries.set(match[1]!, match[2]!);
  }
  return entries;
}
