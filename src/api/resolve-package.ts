import { existsSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { PackageRef } from '../packages/manifest.js';
import type { ApiDeps } from './deps.js';
import { ApiError } from './errors.js';

/** `sha256:<id>` names a stored package; anything else is a path on this host, imported into the store. */
export async function resolvePackage(deps: ApiDeps, input: string): Promise<PackageRef> {
  const field = [{ field: 'body.package', message: '' }];
  const fail = (message: string) => new ApiError(422, 'invalid-package', `body.package: ${message}`, { fields: field.map((f) => ({ ...f, message })) });
  const stored = /^sha256:(.*)$/.exec(input);
  if (stored) {
    try {
      return (await deps.store.getPackage(stored[1]!)).ref;
    } catch (error) {
      throw fail((error as Error).message);
    }
  }
  const path = isAbsolute(input) ? input : resolve(dirname(deps.config.file), input);
  if (!existsSync(path)) throw fail(`no package at ${input} (looked in ${path})`);
  try {
    return (await deps.store.importPackage(path)).ref;
  } catch (error) {
    throw fail((error as Error).message);
  }
}
