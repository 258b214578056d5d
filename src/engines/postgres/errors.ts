import { EngineError } from '../engine.js';

/** SQLSTATEs worth retrying: the server is starting, full, shutting down, or the connection broke. */
const TRANSIENT_SQLSTATES = new Set([
  '57P03', // cannot_connect_now
  '53300', // too_many_connections
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '08000',
  '08001',
  '08003',
  '08004',
  '08006', // connection_exception family
  '40001', // serialization_failure
  '40P01', // deadlock_detected
]);

const TRANSIENT_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EPIPE']);

const TRANSIENT_MESSAGES = new RegExp(
  [
    'timeout',
    'timed out',
    'Connection terminated',
    'could not connect to server',
    'Connection refused',
    'the database system is (starting up|shutting down|in recovery mode)',
    'too many clients',
    'could not obtain lock',
  ].join('|'),
  'i',
);

export const READ_ONLY_SQLSTATE = '25006';

function codeOf(err: unknown): string | undefined {
  if (err instanceof EngineError) return err.sqlState;
  if (typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string') return err.code;
  return undefined;
}

/** The five-character SQLSTATE of a PostgreSQL error, if it is one. */
export function sqlStateOf(err: unknown): string | undefined {
  const code = codeOf(err);
  return code && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

function* causes(err: unknown): Generator<unknown> {
  for (let current = err, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

export function isTransient(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e instanceof EngineError) return e.failureClass === 'transient';
    const code = codeOf(e);
    if (code && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_NODE_CODES.has(code))) return true;
    if (e instanceof Error && !sqlStateOf(e) && TRANSIENT_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** True when a database refused a write because it is read-only (SQLSTATE 25006), however deeply wrapped. */
export function isReadOnlyViolation(err: unknown): boolean {
  for (const e of causes(err)) if (codeOf(e) === READ_ONLY_SQLSTATE) return true;
  return false;
}

export function redact(text: string, secrets: readonly string[]): string {
  // Longest first, so that a password inside the whole connection string does not leave the rest behind.
  return [...secrets].sort((a, b) => b.length - a.length).reduce((out, secret) => out.split(secret).join('***'), text);
}

/** "message (SQLSTATE xxxxx)", secrets removed. */
export function describeError(err: unknown, secrets: readonly string[]): string {
  const message = err instanceof Error ? err.message || err.name : String(err);
  const state = sqlStateOf(err);
  const aggregate =
    err instanceof AggregateError ? err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ') : '';
  return redact([message, aggregate].filter(Boolean).join(': ') + (state ? ` (SQLSTATE ${state})` : ''), secrets);
}

/**
 * Rewraps an error from pg or a tool for the outside world: classified, prefixed with what Cutover was doing,
 * and never carrying the connection string (the original error is not kept as cause for that reason).
 */
export function engineFailure(err: unknown, doing: string, secrets: readonly string[]): Error {
  if (err instanceof EngineError) return new EngineError(err.failureClass, redact(err.message, secrets), err.sqlState);
  const message = `${doing}: ${describeError(err, secrets)}`;
  if (isTransient(err)) return new EngineError('transient', message, sqlStateOf(err));
  const plain = new Error(message);
  const state = sqlStateOf(err);
  if (state) Object.assign(plain, { code: state });
  return plain;
}
