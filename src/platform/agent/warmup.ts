import { setTimeout as sleep } from 'node:timers/promises';
import { httpUrl } from '../../config/addresses.js';
import { ApplicationFailure } from '@temporalio/common';
import type { WarmUpResult } from './contract.js';
import { scrubSecrets } from './scrub.js';

export type WarmupFailureClass = 'startup-error' | 'ip-forbidden' | 'readonly-not-supported' | 'warmup-failed';

/** What one warmup request gave: an HTTP answer, or no answer at all. */
export type WarmupAttempt = { kind: 'response'; status: number; body: string } | { kind: 'no-answer'; error: string };

export interface SlotExit {
  exitCode: number | null;
  exitSignal: string | null;
  /** The slot was stopped on purpose while warming up. */
  stopped?: boolean;
}

export interface WarmupObservation {
  slotId: string;
  path: string;
  readOnly: boolean;
  attempt: WarmupAttempt;
  /** null while the slot process is alive. */
  exit: SlotExit | null;
  /** Last log lines of the current run of the slot, already scrubbed. */
  logTail: string;
  attempts: number;
  elapsedMs: number;
  timeoutMs: number;
  timedOut: boolean;
}

export type WarmupVerdict =
  { outcome: 'ready' } | { outcome: 'keep-polling' } | { outcome: 'failed'; failureClass: WarmupFailureClass; message: string };

// The write itself was refused by a read-only database (PostgreSQL SQLSTATE 25006, SQL Server error 3906).
const READ_ONLY_ERROR = /25006|read-only transaction|read_only_sql_transaction|database is read-only/i;
// Any mention of read-only: trusted in the body of a failed warmup request, or on a log line that reports an error.
const READ_ONLY_MENTION = /25006|read[- ]only/i;
const ERROR_WORDS = /error|fail|fatal|cannot|could not|refus|denied|exception/i;

const MAX_BODY_IN_MESSAGE = 300;

/** Pure: decides from one observation whether the slot is ready, still starting, or failed and why. */
export function classifyWarmup(o: WarmupObservation): WarmupVerdict {
  const tail = o.logTail.trim() ? `\nLast log lines:\n${o.logTail}` : '\n(the slot wrote no log lines)';
  const after = `after ${o.attempts} attempt${o.attempts === 1 ? '' : 's'} in ${o.elapsedMs} ms`;
  const failed = (failureClass: WarmupFailureClass, message: string): WarmupVerdict => ({
    outcome: 'failed',
    failureClass,
    message: scrubSecrets(message),
  });
  const response = o.attempt.kind === 'response' ? o.attempt : null;
  const logShowsReadOnlyFailure = o.logTail
    .split('\n')
    .some((line) => READ_ONLY_ERROR.test(line) || (READ_ONLY_MENTION.test(line) && ERROR_WORDS.test(line)));
  const responseShowsReadOnlyFailure = response !== null && response.status !== 200 && READ_ONLY_MENTION.test(response.body);
  const readOnlyEvidence = o.readOnly && (logShowsReadOnlyFailure || responseShowsReadOnlyFailure);

  if (o.exit) {
    if (readOnlyEvidence) {
      return failed(
        'readonly-not-supported',
        `Slot ${o.slotId} runs on read-only databases and ${describeExit(o.exit)} during warmup (${after}): ` +
          `the application writes at startup.${tail}`,
      );
    }
    return failed('startup-error', `Slot ${o.slotId} ${describeExit(o.exit)} before answering HTTP 200 on ${o.path} (${after}).${tail}`);
  }
  if (response?.status === 200) return { outcome: 'ready' };
  if (response?.status === 403) {
    return failed(
      'ip-forbidden',
      `Slot ${o.slotId} answered HTTP 403 to the warmup request GET ${o.path} from 127.0.0.1${bodySnippet(response.body)}.${tail}`,
    );
  }
  if (response && readOnlyEvidence) {
    return failed(
      'readonly-not-supported',
      `Slot ${o.slotId} runs on read-only databases and answered HTTP ${response.status} to GET ${o.path}: ` +
        `the application writes during warmup${bodySnippet(response.body)}.${tail}`,
    );
  }
  if (!o.timedOut) return { outcome: 'keep-polling' };
  if (readOnlyEvidence) {
    return failed(
      'readonly-not-supported',
      `Slot ${o.slotId} runs on read-only databases and did not answer HTTP 200 on ${o.path} within ${o.timeoutMs} ms; ` +
        `its log shows refused writes.${tail}`,
    );
  }
  const last = response
    ? `last answer HTTP ${response.status}${bodySnippet(response.body)}`
    : `last attempt: ${o.attempt.kind === 'no-answer' ? o.attempt.error : ''}`;
  return failed(
    'warmup-failed',
    `Slot ${o.slotId} did not answer HTTP 200 on ${o.path} within ${o.timeoutMs} ms (${o.attempts} attempts; ${last}).${tail}`,
  );
}

function describeExit(exit: SlotExit): string {
  if (exit.stopped) return 'was stopped';
  if (exit.exitCode !== null) return `exited with code ${exit.exitCode}`;
  if (exit.exitSignal) return `was killed by ${exit.exitSignal}`;
  return 'exited (exit code unknown: it was started by an earlier agent process)';
}

function bodySnippet(body: string): string {
  const text = body.replace(/\s+/g, ' ').trim();
  if (!text) return '';
  return `: ${text.length > MAX_BODY_IN_MESSAGE ? `${text.slice(0, MAX_BODY_IN_MESSAGE)}…` : text}`;
}

/** The slot being warmed up, as the poller sees it. */
export interface WarmupTarget {
  slotId: string;
  /** The address the slot listens on; loopback when absent. */
  host?: string;
  port: number;
  readOnly: boolean;
  /** null while the slot process is alive. */
  exit(): Promise<SlotExit | null>;
  /** Scrubbed log tail of the current run. */
  logTail(): Promise<string>;
}

export interface WarmupOptions {
  path: string;
  timeoutMs: number;
  intervalMs?: number;
  /** Each request gets at most this long. */
  requestTimeoutMs?: number;
  heartbeat?: (details: { attempts: number; elapsedMs: number; last: string }) => void;
  /** Aborts the warmup (activity cancellation). */
  signal?: AbortSignal;
  /** Literal secrets to scrub from response bodies (the log tail comes scrubbed). */
  secrets?: readonly string[];
}

const MAX_BODY_BYTES = 4096;

/** Polls GET http://<host>:<port><path> until HTTP 200; throws a non-retryable ApplicationFailure typed with the failure class. */
export async function warmUp(target: WarmupTarget, options: WarmupOptions): Promise<WarmUpResult> {
  const interval = options.intervalMs ?? 250;
  const requestTimeout = options.requestTimeoutMs ?? 5_000;
  const url = `${httpUrl(target.host ?? '127.0.0.1', target.port).slice(0, -1)}${options.path}`;
  const started = Date.now();
  const deadline = started + options.timeoutMs;
  for (let attempts = 1; ; attempts++) {
    options.signal?.throwIfAborted();
    const answer = await probe(url, Math.max(100, Math.min(requestTimeout, deadline - Date.now())), options.signal);
    const attempt: WarmupAttempt = answer.kind === 'response' ? { ...answer, body: scrubSecrets(answer.body, options.secrets) } : answer;
    options.signal?.throwIfAborted();
    const exit = await target.exit();
    const elapsedMs = Date.now() - started;
    const ok = attempt.kind === 'response' && attempt.status === 200 && !exit;
    const verdict = classifyWarmup({
      slotId: target.slotId,
      path: options.path,
      readOnly: target.readOnly,
      attempt,
      exit,
      logTail: ok ? '' : await target.logTail(),
      attempts,
      elapsedMs,
      timeoutMs: options.timeoutMs,
      timedOut: Date.now() >= deadline,
    });
    options.heartbeat?.({ attempts, elapsedMs, last: attempt.kind === 'response' ? `HTTP ${attempt.status}` : attempt.error });
    if (verdict.outcome === 'ready') return { status: 200, attempts, elapsedMs };
    if (verdict.outcome === 'failed') {
      throw ApplicationFailure.nonRetryable(verdict.message, verdict.failureClass, { slotId: target.slotId, attempts, elapsedMs });
    }
    await sleep(Math.max(0, Math.min(interval, deadline - Date.now())), undefined, { signal: options.signal });
  }
}

async function probe(url: string, timeoutMs: number, signal?: AbortSignal): Promise<WarmupAttempt> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout, redirect: 'manual' });
    return { kind: 'response', status: response.status, body: await readSome(response) };
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (timeout.aborted) return { kind: 'no-answer', error: `no answer within ${timeoutMs} ms` };
    return { kind: 'no-answer', error: describeFetchError(error) };
  }
}

/** Enough of the body to recognise an error message; never the whole of a big page. */
async function readSome(response: Response): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    while (size < MAX_BODY_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
    }
  } catch {
    // A body cut short still tells what it began with.
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, MAX_BODY_BYTES).toString('utf8');
}

function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (ECONNREFUSED)';
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return cause?.message ?? (error instanceof Error ? error.message : String(error));
}
