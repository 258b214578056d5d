import type { ApiClient } from './http.js';
import type { Output } from './progress.js';

/** What every command gets: the API, where to write, and how. */
export interface CliContext {
  api: ApiClient;
  out: Output;
  err: Output;
  json: boolean;
  /** How often --wait asks for the deployment's status. */
  pollMs: number;
}

export const println = (out: Output, text = '') => out.write(`${text}\n`);
export const printJson = (ctx: CliContext, value: unknown) => println(ctx.out, JSON.stringify(value, null, 2));
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
