/** The routers' admin secrets for a stack on this machine: the router, the worker and the API get them, the host agent never does. */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LoadedConfig } from '../config/load.js';
import { minAdminTokenLength } from '../platform/router/admin-access.js';

function tokenEnvNames(config: LoadedConfig): string[] {
  return [...new Set(Object.values(config.environments).map((e) => e.router.adminTokenEnv))];
}

/**
 * Sets each router admin secret that `env` lacks: made once and kept in `<stateDir>/run/<NAME>.secret` (mode 0600),
 * so processes started later agree with routers still running from an earlier start. Returns notes for the operator.
 */
export function provideRouterTokens(config: LoadedConfig, env: NodeJS.ProcessEnv): string[] {
  const notes: string[] = [];
  for (const name of tokenEnvNames(config)) {
    if (env[name]) continue;
    const dir = join(config.stateDir, 'run');
    const file = join(dir, `${name}.secret`);
    const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
    if (kept.length >= minAdminTokenLength) {
      env[name] = kept;
      continue;
    }
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    env[name] = randomBytes(32).toString('base64url');
    writeFileSync(file, `${env[name]}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
    notes.push(`${name} was unset: made a router admin secret, kept in ${file}`);
  }
  return notes;
}

/** `env` without the routers' admin secrets: for the host agent, whose slots must not be able to switch traffic. */
export function withoutRouterTokens(config: LoadedConfig, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const name of tokenEnvNames(config)) delete out[name];
  return out;
}
