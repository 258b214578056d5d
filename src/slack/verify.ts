/**
 * Slack request signatures (v0): HMAC-SHA256 of `v0:{timestamp}:{raw body}` with the signing secret.
 * https://api.slack.com/authentication/verifying-requests-from-slack
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Requests older than this are refused, and replays are remembered for as long. */
export const maxRequestAgeMs = 5 * 60_000;
/** Tolerated clock skew the other way. */
export const maxClockAheadMs = 60_000;

export interface SignedRequest {
  /** `X-Slack-Signature` */
  signature: string | undefined;
  /** `X-Slack-Request-Timestamp`, in seconds */
  timestamp: string | undefined;
  /** The body exactly as received: parsing first would change what was signed. */
  rawBody: string;
}

export type Verification = { ok: true } | { ok: false; reason: string };

export function signSlackRequest(signingSecret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestamp}:${rawBody}`).digest('hex')}`;
}

/** Pure: whether the request was signed with the secret, recently. */
export function verifySlackSignature(signingSecret: string, request: SignedRequest, nowMs: number): Verification {
  const { signature, timestamp, rawBody } = request;
  if (!signature || !timestamp) return { ok: false, reason: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'malformed X-Slack-Request-Timestamp' };
  const ageMs = nowMs - Number(timestamp) * 1000;
  if (ageMs > maxRequestAgeMs) return { ok: false, reason: 'request timestamp is older than 5 minutes' };
  if (ageMs < -maxClockAheadMs) return { ok: false, reason: 'request timestamp is in the future' };
  const expected = Buffer.from(signSlackRequest(signingSecret, timestamp, rawBody));
  const given = Buffer.from(signature);
  // timingSafeEqual throws on different lengths; the length of a valid signature is no secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'invalid signature' };
  return { ok: true };
}

/**
 * Signatures already accepted within the age window. Bounded: when full of unexpired entries it refuses
 * new requests rather than forget one (only Slack, holding the secret, can fill it).
 */
export function createReplayGuard(options: { maxEntries?: number } = {}) {
  const maxEntries = options.maxEntries ?? 10_000;
  const seen = new Map<string, number>(); // signature -> when it may be forgotten (ms)

  function forgetExpired(nowMs: number, everything: boolean) {
    // Insertion order is close to expiry order: usually stopping at the first live entry is enough.
    for (const [signature, expiresAt] of seen) {
      if (expiresAt > nowMs && !everything) break;
      if (expiresAt <= nowMs) seen.delete(signature);
    }
  }

  return {
    /** Records the signature; 'replayed' if it was seen, 'full' if there is no room to remember it. */
    check(signature: string, timestampSec: number, nowMs: number): 'fresh' | 'replayed' | 'full' {
      forgetExpired(nowMs, false);
      if (seen.has(signature)) return 'replayed';
      if (seen.size >= maxEntries) forgetExpired(nowMs, true);
      if (seen.size >= maxEntries) return 'full';
      seen.set(signature, Math.max(timestampSec * 1000 + maxRequestAgeMs, nowMs) + 1000);
      return 'fresh';
    },
    get size() {
      return seen.size;
    },
  };
}

/** Signature, age and replay in one: what the Slack routes call. */
export function createSlackVerifier(options: { now?: () => number; maxEntries?: number } = {}) {
  const now = options.now ?? Date.now;
  const replays = createReplayGuard({ maxEntries: options.maxEntries });
  return (signingSecret: string, request: SignedRequest): Verification => {
    const nowMs = now();
    const verdict = verifySlackSignature(signingSecret, request, nowMs);
    if (!verdict.ok) return verdict;
    const seen = replays.check(request.signature!, Number(request.timestamp), nowMs);
    if (seen === 'replayed') return { ok: false, reason: 'replayed request' };
    if (seen === 'full') return { ok: false, reason: 'too many recent requests to check for replays; try again shortly' };
    return { ok: true };
  };
}
