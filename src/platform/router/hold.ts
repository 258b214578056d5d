import type { ServerResponse } from 'node:http';

/** How long a held request waits for the next switch unless the hold says otherwise, and the most it may say. */
export const defaultHoldTimeoutMs = 5_000;
export const maxHoldTimeoutMs = 30_000;

interface HeldRequest {
  resume: () => void;
  timer: NodeJS.Timeout;
}

/**
 * The new requests of a live listener while its traffic is held (writes stopped for the moment of a switch): none is
 * answered or refused, each waits for the next live switch (then goes to its target) or `timeoutMs` (then the
 * maintenance page). Requests already on their way to the previous target are not here: they finish there.
 */
export class HeldRequests {
  private readonly waiting = new Set<HeldRequest>();

  /** For requests held from now on; those already held keep theirs. */
  constructor(public timeoutMs: number) {}

  get count(): number {
    return this.waiting.size;
  }

  /** `resume` sends the request on once the switch happened; `expire` answers it when the switch is too late. */
  add(response: ServerResponse, resume: () => void, expire: () => void): void {
    const held: HeldRequest = {
      resume,
      timer: setTimeout(() => {
        this.waiting.delete(held);
        expire();
      }, this.timeoutMs),
    };
    this.waiting.add(held);
    // A client that leaves while held takes nothing further from the router.
    response.once('close', () => {
      if (!this.waiting.delete(held)) return;
      clearTimeout(held.timer);
    });
  }

  /** The switch happened: every held request goes on, in the order it arrived. */
  release(): void {
    const held = [...this.waiting];
    this.waiting.clear();
    for (const request of held) {
      clearTimeout(request.timer);
      request.resume();
    }
  }

  /** The router stops: nothing is sent on (their connections are being closed). */
  drop(): void {
    for (const request of this.waiting) clearTimeout(request.timer);
    this.waiting.clear();
  }
}
