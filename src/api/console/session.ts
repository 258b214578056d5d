/**
 * The console's sessions: a token posted once on the login page becomes a random session id in an HttpOnly,
 * SameSite=Strict cookie. Sessions live in the API's memory (a restart logs everyone out); the token is never stored.
 * A request that changes something must come from the console's own origin (the Origin header names this host).
 */
import { randomBytes } from 'node:crypto';
import type { Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { createMiddleware } from 'hono/factory';
import type { TokenConfig } from '../../config/schema.js';
import { authenticate, createTokenVerifier, type ApiEnv, type Principal } from '../auth.js';
import { ApiError } from '../errors.js';

export const SESSION_COOKIE = 'cutover_session';
export const CONSOLE_PATH = '/console';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const MAX_SESSIONS = 10_000;
const MAX_TOKEN_LENGTH = 4096;

interface Session {
  principal: Principal;
  expiresAt: number;
}

export function createSessions(tokens: readonly TokenConfig[] | undefined, now: () => number = Date.now) {
  const verify = tokens ? createTokenVerifier(tokens) : null;
  const sessions = new Map<string, Session>();
  const open = authenticate(undefined);
  const bearer = authenticate(tokens);

  function dropExpired() {
    const at = now();
    for (const [id, session] of sessions) if (session.expiresAt <= at) sessions.delete(id);
  }

  function current(c: Context): Principal | null {
    const id = getCookie(c, SESSION_COOKIE);
    const session = id ? sessions.get(id) : undefined;
    if (!session) return null;
    if (session.expiresAt > now()) return session.principal;
    sessions.delete(id!);
    return null;
  }

  return {
    /** Auth is off: the console is as open as the API. */
    open: verify === null,

    /** Starts a session for a valid token, setting the cookie; false for anything else. */
    login(c: Context, token: string): boolean {
      if (!verify || token.length === 0 || token.length > MAX_TOKEN_LENGTH) return false;
      const principal = verify(token);
      if (!principal) return false;
      dropExpired();
      if (sessions.size >= MAX_SESSIONS) sessions.delete(sessions.keys().next().value!);
      const id = randomBytes(32).toString('base64url');
      sessions.set(id, { principal, expiresAt: now() + SESSION_TTL_MS });
      setCookie(c, SESSION_COOKIE, id, {
        httpOnly: true,
        sameSite: 'Strict',
        path: CONSOLE_PATH,
        secure: new URL(c.req.url).protocol === 'https:',
        maxAge: SESSION_TTL_MS / 1000,
      });
      return true;
    },

    logout(c: Context) {
      const id = getCookie(c, SESSION_COOKIE);
      if (id) sessions.delete(id);
      deleteCookie(c, SESSION_COOKIE, { path: CONSOLE_PATH });
    },

    /**
     * Sets the principal from the session cookie, else from a bearer token (scripts), else everyone when auth is off.
     * Without either: `onMissing` (a redirect to the login page, or a 401).
     */
    authenticate(onMissing: (c: Context) => Response | Promise<Response>) {
      return createMiddleware<ApiEnv>(async (c, next) => {
        if (!verify) return open(c, next);
        const principal = current(c);
        if (principal) {
          c.set('principal', principal);
          return next();
        }
        if (c.req.header('authorization')) return bearer(c, next);
        return onMissing(c);
      });
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;

function originHost(origin: string | undefined): string | null {
  try {
    return origin && origin !== 'null' ? new URL(origin).host : null;
  } catch {
    return null;
  }
}

/**
 * Cross-site request forgery: the cookie is SameSite=Strict, and a request that changes something must also carry an
 * Origin naming this very host. Requests with a bearer token carry no ambient credential and pass.
 */
export const sameOrigin = createMiddleware(async (c, next) => {
  if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.header('authorization')) return next();
  const origin = c.req.header('origin');
  const host = c.req.header('host') ?? new URL(c.req.url).host;
  if (originHost(origin) !== host) {
    throw new ApiError(403, 'cross-origin', 'the console accepts changes only from its own pages: the Origin header must name this host');
  }
  return next();
});
