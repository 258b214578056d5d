import { EngineError } from '../engine.js';

/** "Failed to update database … because the database is read-only." */
export const READ_ONLY_ERROR = 3906;

/** Errors that mean the database is in use: refused, never forced, and worth retrying once the sessions are gone. */
export const IN_USE_ERRORS = new Set([
  3101, // exclusive access could not be obtained because the database is in use
  3702, // cannot drop database because it is currently in use
  5061, // ALTER DATABASE failed because a lock could not be placed on the database
]);

/** Error numbers worth retrying: deadlocks, lock timeouts, broken connections, Azure SQL failovers and throttling. */
const TRANSIENT_ERRORS = new Set([
  ...IN_USE_ERRORS,
  20,
  64,
  121,
  233,
  10053,
  10054,
  10060, // the connection broke
  1205, // chosen as deadlock victim
  1222, // lock request time out
  1807, // could not obtain exclusive lock on database 'model' (CREATE DATABASE)
  4221, // login to read-secondary failed due to long wait on HADR_DATABASE_WAIT_FOR_TRANSITION_TO_VERSIONING
  10928,
  10929, // Azure SQL resource limits
  40143,
  40197,
  40501,
  40540,
  40613, // Azure SQL: service busy, reconfiguration, database not currently available
  49918,
  49919,
  49920, // Azure SQL: too many operations in progress
]);

/** mssql / Node codes of a connection that could not be made or broke. */
const TRANSIENT_CODES = new Set([
  'ESOCKET',
  'ETIMEOUT',
  'ECONNCLOSED',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);

const TRANSIENT_MESSAGES =
  /is not currently available|please retry|timeout|timed out|Connection lost|ECONNREFUSED|ECONNRESET|Could not connect/i;

interface SqlServerErrorShape {
  number?: unknown;
  code?: unknown;
  lineNumber?: unknown;
  precedingErrors?: unknown;
  originalError?: unknown;
}

function* causes(err: unknown): Generator<unknown> {
  for (let current = err, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    yield current;
    if (typeof current !== 'object') return;
    const shape = current as SqlServerErrorShape & { cause?: unknown };
    if (Array.isArray(shape.precedingErrors)) for (const preceding of shape.precedingErrors) yield preceding;
    current = shape.originalError ?? shape.cause;
  }
}

/** The SQL Server error number, if the error came from the server. */
export function errorNumberOf(err: unknown): number | undefined {
  if (err instanceof EngineError) return err.sqlState && /^\d+$/.test(err.sqlState) ? Number(err.sqlState) : undefined;
  if (typeof err === 'object' && err !== null && typeof (err as SqlServerErrorShape).number === 'number')
    return (err as { number: number }).number;
  return undefined;
}

function codeOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && typeof (err as SqlServerErrorShape).code === 'string'
    ? (err as { code: string }).code
    : undefined;
}

/** Every error number in the chain: the server often sends the cause first and "terminating abnormally" last. */
export function errorNumbersOf(err: unknown): number[] {
  return [...causes(err)].map(errorNumberOf).filter((n): n is number => n !== undefined);
}

export function isTransient(err: unknown): boolean {
  for (const e of causes(err)) {
    if (e instanceof EngineError) return e.failureClass === 'transient';
    const number = errorNumberOf(e);
    if (number !== undefined && TRANSIENT_ERRORS.has(number)) return true;
    const code = codeOf(e);
    if (code && TRANSIENT_CODES.has(code)) return true;
    if (e instanceof Error && number === undefined && TRANSIENT_MESSAGES.test(e.message)) return true;
  }
  return false;
}

/** True when SQL Server refused a write because the database is read-only (error 3906), however deeply wrapped. */
export function isReadOnlyViolation(err: unknown): boolean {
  return errorNumbersOf(err).includes(READ_ONLY_ERROR);
}

/** True when the database is in use by other sessions (errors 3101, 3702, 5061). */
export function isInUse(err: unknown): boolean {
  return errorNumbersOf(err).some((n) => IN_USE_ERRORS.has(n));
}

export function redact(text: string, secrets: readonly string[]): string {
  // Longest first, so that a password inside the whole connection string does not leave the rest behind.
  return [...secrets].sort((a, b) => b.length - a.length).reduce((out, secret) => out.split(secret).join('***'), text);
}

/** "first message; last message (error N)", secrets removed: the server's cause and its conclusion both count. */
export function describeError(err: unknown, secrets: readonly string[] = []): string {
  const messages: string[] = [];
  const shape = (typeof err === 'object' && err !== null ? err : {}) as SqlServerErrorShape;
  if (Array.isArray(shape.precedingErrors))
    for (const e of shape.precedingErrors) if (e instanceof Error && e.message) messages.push(e.message);
  messages.push(err instanceof Error ? err.message || err.name : String(err));
  const number = errorNumberOf(err);
  const unique = messages.filter((m, i) => messages.indexOf(m) === i);
  return redact(unique.join('; ') + (number !== undefined ? ` (error ${number})` : ''), secrets);
}

/**
 * Rewraps an error from mssql for the outside world: classified, prefixed with what Cutover was doing,
 * and never carrying the connection string (the original error is not kept as cause for that reason).
 */
export function engineFailure(err: unknown, doing: string, secrets: readonly string[]): Error {
  if (err instanceof EngineError) return new EngineError(err.failureClass, redact(err.message, secrets), err.sqlState);
  const message = `${doing}: ${describeError(err, secrets)}`;
  const number = errorNumberOf(err);
  if (isTransient(err)) return new EngineError('transient', message, number === undefined ? undefined : String(number));
  const plain = new Error(message);
  // Keep the number classifiers look for (3906 wins: a read-only refusal must stay recognisable), not the driver's objects.
  const kept = isReadOnlyViolation(err) ? READ_ONLY_ERROR : number;
  if (kept !== undefined) Object.assign(plain, { number: kept });
  return plain;
}
