import { randomInt } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Canary } from './routes.js';
import type { SlotTarget } from './targets.js';

/** The cookie that keeps a client on its side of a canary: its bucket, 0..9999, drawn once at its first request. */
export const canaryCookie = 'cutover_canary';

/** Buckets per percent: a client is on the canary when its bucket is below percent × this. */
const bucketsPerPercent = 100;
const buckets = 100 * bucketsPerPercent;

const bucketPattern = new RegExp(`(?:^|;)\\s*${canaryCookie}=(\\d{1,4})\\s*(?:;|$)`);

/** Where one request goes while a canary is in force, and the cookie to give a client that had none. */
export interface CanaryChoice {
  canary: boolean;
  setCookie: string | undefined;
}

const allowed: CanaryChoice = { canary: true, setCookie: undefined };

/**
 * A canary in force on a live listener. The bucket is the client's for good, so raising the percentage only moves
 * stable clients whose bucket the new share covers, and never moves a canary client back.
 */
export class CanaryTarget {
  private readonly threshold: number;
  private readonly headers: ReadonlyArray<{ name: string; value: string }>;
  private readonly cookies: ReadonlyArray<{ pattern: RegExp; value: string }>;

  constructor(
    readonly route: Canary,
    readonly target: SlotTarget,
  ) {
    this.threshold = route.percent * bucketsPerPercent;
    const allow = route.allow ?? [];
    this.headers = allow.flatMap((a) => (a.header === undefined ? [] : [{ name: a.header.toLowerCase(), value: a.value }]));
    this.cookies = allow.flatMap((a) => (a.cookie === undefined ? [] : [{ pattern: cookiePattern(a.cookie), value: a.value }]));
  }

  /** The same target with a new share and allow-list: requests in flight stay counted on it. */
  with(route: Canary): CanaryTarget {
    return new CanaryTarget(route, this.target);
  }

  choose(request: IncomingMessage): CanaryChoice {
    // Percent 0 is the way back: everyone on the live target at once, testers included.
    if (this.threshold === 0) return { canary: false, setCookie: undefined };
    const cookie = request.headers.cookie;
    for (const { name, value } of this.headers) if (request.headers[name] === value) return allowed;
    if (cookie !== undefined) {
      for (const { pattern, value } of this.cookies) if (pattern.exec(cookie)?.[1] === value) return allowed;
      const kept = bucketPattern.exec(cookie);
      if (kept) return { canary: Number(kept[1]) < this.threshold, setCookie: undefined };
    }
    const bucket = randomInt(buckets);
    return { canary: bucket < this.threshold, setCookie: `${canaryCookie}=${bucket}; Path=/; HttpOnly; SameSite=Lax` };
  }
}

function cookiePattern(name: string): RegExp {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(?:^|;)\\s*${escaped}=([^;]*?)\\s*(?:;|$)`);
}
