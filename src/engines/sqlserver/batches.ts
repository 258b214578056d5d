/** One batch of a T-SQL script: what sqlcmd and SSMS send to the server between two GO lines. */
export interface Batch {
  /** The batch as written, without the GO line. */
  text: string;
  /** Line of the script the batch starts on (1-based): the server's line numbers count from here. */
  startLine: number;
  /** `GO n` sends the batch n times. */
  repeat: number;
}

/** A GO line the splitter cannot accept (the migration, not the server, is wrong). */
export class BatchSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
    this.name = 'BatchSyntaxError';
  }
}

/** GO alone on its line, in any case, with an optional repeat count and trailing line comment. */
const GO_LINE = /^[ \t]*go(?:[ \t]+(\d+))?[ \t]*(?:--.*)?\r?$/i;

type State = 'code' | 'string' | 'bracketed' | 'quoted' | 'line-comment' | 'block-comment';

/**
 * Splits a script on GO lines. A GO inside a string ('…'), a bracketed ([…]) or double-quoted ("…")
 * identifier, or a comment (-- … and nested /* … *\/) is text, not a separator. Batches holding only
 * whitespace and comments are left out.
 */
export function splitBatches(script: string): Batch[] {
  const batches: Batch[] = [];
  let i = script.startsWith('\uFEFF') ? 1 : 0;
  let batchStart = i;
  let batchLine = 1;
  let line = 1;
  let hasCode = false;
  let state: State = 'code';
  let depth = 0;
  let atLineStart = true;

  while (i < script.length) {
    if (atLineStart && state === 'code') {
      const end = script.indexOf('\n', i) === -1 ? script.length : script.indexOf('\n', i);
      const go = GO_LINE.exec(script.slice(i, end));
      if (go) {
        const repeat = go[1] === undefined ? 1 : Number(go[1]);
        if (!Number.isSafeInteger(repeat) || repeat < 1)
          throw new BatchSyntaxError(`line ${line}: GO ${go[1]} must repeat the batch at least once`, line);
        if (hasCode) batches.push({ text: script.slice(batchStart, i), startLine: batchLine, repeat });
        i = end + 1;
        line += 1;
        batchStart = Math.min(i, script.length);
        batchLine = line;
        hasCode = false;
        continue;
      }
    }
    atLineStart = false;
    const c = script[i];
    const next = script[i + 1];
    if (state === 'code') {
      if (c === '-' && next === '-') {
        state = 'line-comment';
        i += 2;
        continue;
      }
      if (c === '/' && next === '*') {
        state = 'block-comment';
        depth = 1;
        i += 2;
        continue;
      }
      if (c === "'") state = 'string';
      else if (c === '[') state = 'bracketed';
      else if (c === '"') state = 'quoted';
      if (!/\s/.test(c ?? '')) hasCode = true;
    } else if (state === 'string' || state === 'bracketed' || state === 'quoted') {
      const close = state === 'string' ? "'" : state === 'bracketed' ? ']' : '"';
      if (c === close) {
        // A doubled closing character is the character itself, not the end.
        if (next === close) {
          i += 2;
          continue;
        }
        state = 'code';
      }
    } else if (state === 'block-comment') {
      if (c === '/' && next === '*') {
        depth += 1;
        i += 2;
        continue;
      }
      if (c === '*' && next === '/') {
        depth -= 1;
        if (depth === 0) state = 'code';
        i += 2;
        continue;
      }
    }
    if (c === '\n') {
      line += 1;
      atLineStart = true;
      if (state === 'line-comment') state = 'code';
    }
    i += 1;
  }
  if (hasCode) batches.push({ text: script.slice(batchStart), startLine: batchLine, repeat: 1 });
  return batches;
}
