/**
 * How many proxied requests are in flight somewhere (to one target, on one listener, in the whole router), from the
 * moment their target was chosen until their response closed. A counter, not a list: the proxy's hot path adds and
 * removes one, and a switch waits for the count of the target it left to reach zero (no new request can join it).
 */
export class InFlightCount {
  private count = 0;
  private waiters: Array<() => void> = [];

  get value(): number {
    return this.count;
  }

  add(): void {
    this.count += 1;
  }

  remove(): void {
    this.count -= 1;
    if (this.count > 0 || this.waiters.length === 0) return;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Calls `then` once nothing is in flight (at once if nothing is). */
  whenZero(then: () => void): void {
    if (this.count === 0) then();
    else this.waiters.push(then);
  }

  /** Resolves true once nothing is in flight, false if `timeoutMs` passed first. */
  async zero(timeoutMs: number): Promise<boolean> {
    if (this.count === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let wake: (() => void) | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        wake = () => resolve(true);
        this.waiters.push(wake);
        timer = setTimeout(resolve, timeoutMs, false);
      });
    } finally {
      clearTimeout(timer);
      this.waiters = this.waiters.filter((waiter) => waiter !== wake);
    }
  }
}
