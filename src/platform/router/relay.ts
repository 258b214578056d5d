/** What both lanes of a listener do alike with a request they relay to a slot (proxy.ts, fast-lane.ts). */
import type { Writable } from 'node:stream';
import type { InFlightCount } from './in-flight.js';
import type { SlotExchangeController } from './slot-connections.js';
import type { ListenerState } from './switchboard.js';
import type { SlotTarget } from './targets.js';

/** Where a relayed request is counted while in flight: a switch waits for its target's, shutdown for the router's. */
export interface FlightCounts {
  state: ListenerState;
  inFlight: InFlightCount;
}

/** The request's target was chosen: it counts as in flight for its target, its listener and the router. */
export function countInFlight(counts: FlightCounts, target: SlotTarget): void {
  target.inFlight.add();
  counts.state.inFlight.add();
  counts.inFlight.add();
}

/** The request ended (or was passed on to the other lane): no longer in flight anywhere. */
export function uncountInFlight(counts: FlightCounts, target: SlotTarget): void {
  target.inFlight.remove();
  counts.state.inFlight.remove();
  counts.inFlight.remove();
}

/**
 * The client reads slower than the slot writes: the slot's answer is held until the client drained, and `giveUp` is
 * called if it does not within `timeoutMs`. Returns the timer, for the caller to clear once the request ends.
 */
export function holdSlotForClient(client: Writable, slot: SlotExchangeController, timeoutMs: number, giveUp: () => void): NodeJS.Timeout {
  slot.pause();
  const stalled = setTimeout(giveUp, timeoutMs);
  client.once('drain', () => {
    clearTimeout(stalled);
    slot.resume();
  });
  return stalled;
}
