import type { Channel } from './routes.js';

/** One proxied request, from the moment its target was chosen until its response is closed. */
export interface InFlightRequest {
  readonly target: string;
  readonly site: string;
  readonly channel: Channel;
  /** Resolves once finish() ran. */
  readonly finished: Promise<void>;
  finish(): void;
}

/** Counts proxied requests per target and per site listener, so a switch can wait for the old target to drain. */
export class InFlightRequests {
  private readonly byTarget = new Map<string, Set<InFlightRequest>>();
  private readonly byListener = new Map<string, number>();
  private all = 0;
  private readonly idleWaiters = new Set<() => void>();

  start(target: string, site: string, channel: Channel): InFlightRequest {
    let resolve!: () => void;
    const finished = new Promise<void>((r) => (resolve = r));
    let done = false;
    const request: InFlightRequest = {
      target,
      site,
      channel,
      finished,
      finish: () => {
        if (done) return;
        done = true;
        this.remove(request);
        resolve();
      },
    };
    let set = this.byTarget.get(target);
    if (!set) this.byTarget.set(target, (set = new Set()));
    set.add(request);
    this.byListener.set(listenerKey(site, channel), this.count(site, channel) + 1);
    this.all += 1;
    return request;
  }

  count(site: string, channel: Channel): number {
    return this.byListener.get(listenerKey(site, channel)) ?? 0;
  }

  get total(): number {
    return this.all;
  }

  /** The requests in flight to `target` right now; later ones are not included. */
  snapshot(target: string): InFlightRequest[] {
    return [...(this.byTarget.get(target) ?? [])];
  }

  /** Resolves true once every request of `requests` finished, false if `timeoutMs` passed first. */
  async drain(requests: readonly InFlightRequest[], timeoutMs: number): Promise<boolean> {
    if (requests.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    try {
      return await Promise.race([Promise.all(requests.map((r) => r.finished)).then(() => true as const), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Resolves true once no request at all is in flight (shutdown), false after `timeoutMs`. */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.all === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    let waiter: (() => void) | undefined;
    try {
      return await new Promise<boolean>((resolve) => {
        waiter = () => resolve(true);
        this.idleWaiters.add(waiter);
        timer = setTimeout(resolve, timeoutMs, false);
      });
    } finally {
      clearTimeout(timer);
      if (waiter) this.idleWaiters.delete(waiter);
    }
  }

  private remove(request: InFlightRequest) {
    const set = this.byTarget.get(request.target);
    set?.delete(request);
    if (set?.size === 0) this.byTarget.delete(request.target);
    const key = listenerKey(request.site, request.channel);
    const left = this.count(request.site, request.channel) - 1;
    if (left > 0) this.byListener.set(key, left);
    else this.byListener.delete(key);
    this.all -= 1;
    if (this.all === 0) for (const wake of [...this.idleWaiters]) wake();
  }
}

function listenerKey(site: string, channel: Channel): string {
  return `${site}\u0000${channel}`;
}
