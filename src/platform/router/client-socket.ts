import type { Socket } from 'node:net';
import type { SlotError } from './slot-connections.js';
import type { SlotTarget } from './targets.js';
import type { Upstream } from './upstream-pools.js';

/** What a client connection carries from one request to the next, and from the fast lane to Node's server. */

/** Bytes a client connection had read when its last request ended: more since then means a new request began. */
const readAtLastRequest = Symbol('bytes read when the last request ended');
/** A request the fast lane sent that failed before any answer: Node's server carries on from that attempt. */
const failedAttempt = Symbol('the fast lane attempt that failed');

/** The first attempt at a request, made by the fast lane, and why it failed. */
export interface FailedAttempt {
  target: SlotTarget;
  upstream: Upstream;
  error: SlotError;
}

export type ClientSocket = Socket & { [readAtLastRequest]?: number; [failedAttempt]?: FailedAttempt };

/** The last request on the connection ended once `bytesRead` bytes were read (by default: all read so far). */
export function requestEnded(socket: ClientSocket | null, bytesRead = socket?.bytesRead): void {
  if (socket) socket[readAtLastRequest] = bytesRead;
}

/** The client sent something since its last request ended: a request is under way. */
export function receivingRequest(socket: ClientSocket): boolean {
  return socket.bytesRead > (socket[readAtLastRequest] ?? 0);
}

export function keepFailedAttempt(socket: ClientSocket, attempt: FailedAttempt): void {
  socket[failedAttempt] = attempt;
}

/** The fast lane's failed attempt at the request now handled, if it was made to `target` (a switch since makes it moot). */
export function takeFailedAttempt(socket: ClientSocket | null, target: SlotTarget): FailedAttempt | undefined {
  const attempt = socket?.[failedAttempt];
  if (attempt === undefined) return undefined;
  socket![failedAttempt] = undefined;
  return attempt.target === target ? attempt : undefined;
}
