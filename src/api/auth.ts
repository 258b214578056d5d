/**
 * Bearer tokens of the HTTP API. The configuration holds only each token's sha256; a presented token is
 * hashed and compared with every configured digest in constant time. Tokens are never logged or echoed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createMiddleware } from 'hono/factory';
import type { LoadedConfig } from '../config/load.js';
import type { EnvironmentConfig, Role, TokenConfig } from '../config/schema.js';
import { ApiError } from './errors.js';

/** Who is asking: a configured token, or everyone when auth is disabled. */
export interface Principal {
  name: string;
  roles: readonly Role[];
  /** Environments the token may see and act on; all when undefined. */
  environments?: readonly string[];
  /** Auth is disabled: nobody in particular. */
  anonymous?: true;
}

export type ApiEnv = { Variables: { principal: Principal } };

/** What a request does, and the roles that may do it. Every role may view. */
export const permissions = {
  view: ['viewer', 'deployer', 'approver'],
  deploy: ['deployer'],
  upload: ['deployer'],
  complete: ['approver'],
  // Reset is the safe direction: the deployer who started a deployment may take it back, as may an approver.
  reset: ['deployer', 'approver'],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof permissions;

const everyone: Principal = { name: 'anonymous', roles: ['viewer', 'deployer', 'approver'], anonymous: true };
const REALM = 'Bearer realm="cutover"';
const MAX_TOKEN_LENGTH = 4096;

export const hashToken = (token: string): Buffer => createHash('sha256').update(token, 'utf8').digest();

/** Finds the configured token whose digest matches; looks at every one so timing says nothing about which. */
export function createTokenVerifier(tokens: readonly TokenConfig[]) {
  const known = tokens.map((token) => ({ token, digest: Buffer.from(token.sha256, 'hex') }));
  return (presented: string): Principal | null => {
    const digest = hashToken(presented);
    let match: TokenConfig | null = null;
    for (const { token, digest: expected } of known) {
      if (timingSafeEqual(expected, digest) && match === null) match = token;
    }
    return match ? { name: match.name, roles: match.roles, environments: match.environments } : null;
  };
}

const unauthorized = (message: string, challenge: string) =>
  new ApiError(401, 'unauthorized', message, {}, { 'WWW-Authenticate': challenge });

/**
 * Sets the request's principal; 401 without a valid token. Open (every role, every environment) when auth is not configured.
 * With `optional`, a request without an Authorization header goes on without a principal (public routes that say more to a token).
 */
export function authenticate(tokens: readonly TokenConfig[] | undefined, options: { optional?: boolean } = {}) {
  const verify = tokens ? createTokenVerifier(tokens) : null;
  return createMiddleware<ApiEnv>(async (c, next) => {
    if (!verify) {
      c.set('principal', everyone);
      return next();
    }
    const header = c.req.header('authorization');
    if (!header && options.optional) return next();
    if (!header) throw unauthorized('a bearer token is required: send "Authorization: Bearer <token>"', REALM);
    const match = /^Bearer +(\S+) *$/i.exec(header);
    const principal = match && match[1]!.length <= MAX_TOKEN_LENGTH ? verify(match[1]!) : null;
    if (!principal) throw unauthorized('the bearer token is not valid', `${REALM}, error="invalid_token"`);
    c.set('principal', principal);
    return next();
  });
}

const roleList = (roles: readonly string[]) => (roles.length === 1 ? `the role ${roles[0]}` : `one of the roles ${roles.join(', ')}`);

/** Route middleware: 403 unless the principal has a role that grants the permission. */
export function allow(permission: Permission, what: string) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const principal = c.get('principal');
    const granted: readonly Role[] = permissions[permission];
    if (!principal.roles.some((role) => granted.includes(role))) {
      throw new ApiError(
        403,
        'forbidden',
        `token ${principal.name} may not ${what}: it needs ${roleList(granted)}`,
        {},
        { 'WWW-Authenticate': `${REALM}, error="insufficient_scope"` },
      );
    }
    await next();
  });
}

export const mayAccess = (principal: Principal, environment: string) =>
  !principal.environments || principal.environments.includes(environment);

/**
 * The environment, when it exists and the principal may see it. Otherwise one and the same 404, so a token
 * limited to some environments learns nothing of the others, not even their names.
 */
export function visibleEnvironment(config: LoadedConfig, principal: Principal, environment: string): EnvironmentConfig {
  const env = config.environments[environment];
  if (!env || !mayAccess(principal, environment)) throw new ApiError(404, 'not-found', `no environment named ${environment}`);
  return env;
}

/** Route middleware: 403 for a token limited to some environments, on what spans every environment. */
export function allowAllEnvironments(what: string) {
  return createMiddleware<ApiEnv>(async (c, next) => {
    const principal = c.get('principal');
    if (principal.environments) {
      const message = `token ${principal.name} is limited to some environments and may not ${what}: that spans every environment`;
      throw new ApiError(403, 'forbidden', message, {}, { 'WWW-Authenticate': `${REALM}, error="insufficient_scope"` });
    }
    await next();
  });
}
