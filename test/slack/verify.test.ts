import { describe, expect, test } from 'vitest';
import { createReplayGuard, createSlackVerifier, signSlackRequest, verifySlackSignature } from '../../src/slack/verify.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
const nowMs = 1_700_000_000_000;
const ts = String(nowMs / 1000);
const body = 'token=x&team_id=T0TEAM&user_id=U0APPROVER&command=%2Fcutover&text=status+shop';
const signed = (overrides: Partial<{ signature: string | undefined; timestamp: string | undefined; rawBody: string }> = {}) => ({
  signature: signSlackRequest(secret, ts, body),
  timestamp: ts,
  rawBody: body,
  ...overrides,
});

describe('Slack request signatures', () => {
  test("Slack's documented example verifies", () => {
    // From https://api.slack.com/authentication/verifying-requests-from-slack
    const exampleBody =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
      '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=' +
      '&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN' +
      '&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', exampleBody)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  test('a correctly signed, recent request is accepted', () => {
    expect(verifySlackSignature(secret, signed(), nowMs)).toEqual({ ok: true });
  });

  test('a wrong signature is refused', () => {
    expect(verifySlackSignature(secret, signed({ signature: `v0=${'0'.repeat(64)}` }), nowMs)).toEqual({
      ok: false,
      reason: 'invalid signature',
    });
    expect(verifySlackSignature(secret, signed({ signature: 'v0=short' }), nowMs)).toEqual({ ok: false, reason: 'invalid signature' });
  });

  test('a signature made with another secret is refused', () => {
    expect(verifySlackSignature(secret, signed({ signature: signSlackRequest('another-secret', ts, body) }), nowMs).ok).toBe(false);
  });

  test('a body altered by one byte is refused', () => {
    const altered = body.replace('status', 'statut');
    expect(altered.length).toBe(body.length);
    expect(verifySlackSignature(secret, signed({ rawBody: altered }), nowMs)).toEqual({ ok: false, reason: 'invalid signature' });
  });

  test('a signature for another timestamp is refused', () => {
    expect(verifySlackSignature(secret, signed({ timestamp: String(Number(ts) - 1) }), nowMs).ok).toBe(false);
  });

  test('timestamps older than 5 minutes are refused, even correctly signed', () => {
    const old = String(Number(ts) - 5 * 60 - 1);
    expect(verifySlackSignature(secret, signed({ timestamp: old, signature: signSlackRequest(secret, old, body) }), nowMs)).toEqual({
      ok: false,
      reason: 'request timestamp is older than 5 minutes',
    });
    const justInTime = String(Number(ts) - 5 * 60 + 1);
    expect(
      verifySlackSignature(secret, signed({ timestamp: justInTime, signature: signSlackRequest(secret, justInTime, body) }), nowMs).ok,
    ).toBe(true);
  });

  test('timestamps more than a minute in the future are refused', () => {
    const future = String(Number(ts) + 61);
    expect(verifySlackSignature(secret, signed({ timestamp: future, signature: signSlackRequest(secret, future, body) }), nowMs)).toEqual({
      ok: false,
      reason: 'request timestamp is in the future',
    });
    const skewed = String(Number(ts) + 30);
    expect(verifySlackSignature(secret, signed({ timestamp: skewed, signature: signSlackRequest(secret, skewed, body) }), nowMs).ok).toBe(
      true,
    );
  });

  test('missing or malformed headers are refused', () => {
    expect(verifySlackSignature(secret, signed({ signature: undefined }), nowMs).ok).toBe(false);
    expect(verifySlackSignature(secret, signed({ timestamp: undefined }), nowMs).ok).toBe(false);
    expect(verifySlackSignature(secret, signed({ signature: '' }), nowMs).ok).toBe(false);
    expect(verifySlackSignature(secret, signed({ timestamp: '17e8' }), nowMs)).toEqual({
      ok: false,
      reason: 'malformed X-Slack-Request-Timestamp',
    });
  });
});

describe('replays', () => {
  test('the same signed request is accepted once', () => {
    const verify = createSlackVerifier({ now: () => nowMs });
    expect(verify(secret, signed())).toEqual({ ok: true });
    expect(verify(secret, signed())).toEqual({ ok: false, reason: 'replayed request' });
    // The same body signed at another second is another request.
    const next = String(Number(ts) + 1);
    expect(verify(secret, signed({ timestamp: next, signature: signSlackRequest(secret, next, body) }))).toEqual({ ok: true });
  });

  test('refused requests are not remembered, so they cannot crowd out real ones', () => {
    const verify = createSlackVerifier({ now: () => nowMs, maxEntries: 1 });
    for (let i = 0; i < 5; i++) expect(verify(secret, signed({ signature: `v0=${String(i).repeat(64)}` })).ok).toBe(false);
    expect(verify(secret, signed())).toEqual({ ok: true });
  });

  test('the memory is bounded: when full of live entries it refuses rather than forgets', () => {
    const guard = createReplayGuard({ maxEntries: 2 });
    const t = nowMs / 1000;
    expect(guard.check('a', t, nowMs)).toBe('fresh');
    expect(guard.check('b', t, nowMs)).toBe('fresh');
    expect(guard.check('c', t, nowMs)).toBe('full');
    expect(guard.check('a', t, nowMs)).toBe('replayed');
    // Once past the 5-minute window the old signatures are forgotten (their timestamps are refused anyway).
    const later = nowMs + 5 * 60_000 + 2000;
    expect(guard.check('c', later / 1000, later)).toBe('fresh');
    expect(guard.size).toBe(1);
  });
});
